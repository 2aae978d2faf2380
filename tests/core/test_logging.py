"""Secrets never reach a log line: the filter every handler of the catalog's logging configuration carries."""

import io
import logging

from catalog.core.logging import RedactSecretsFilter


def logger_to(stream: io.StringIO) -> logging.Logger:
    logger = logging.getLogger(f"canon.test.redact.{id(stream)}")
    logger.propagate = False
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecretsFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger.addHandler(handler)
    return logger


def test_messages_lose_url_passwords_and_secret_pairs_but_keep_their_words():
    stream = io.StringIO()
    logger_to(stream).warning("crawl of %s failed: %s", "postgresql://u:Pa55word@db/shop",
                              'password authentication failed; retrying with {"api_key": "K-123"}')
    assert stream.getvalue() == ('WARNING crawl of postgresql://u:***@db/shop failed: '
                                 'password authentication failed; retrying with {"api_key": "***"}\n')


def test_the_traceback_of_a_logged_exception_is_scrubbed_too():
    stream = io.StringIO()
    try:
        raise ValueError("could not connect with host=db password=Hunter2 sessionToken=IQoJ")
    except ValueError:
        logger_to(stream).exception("connect failed for mysql://root:Hunter2@db/")
    logged = stream.getvalue()
    assert "Hunter2" not in logged and "IQoJ" not in logged
    assert "ValueError: could not connect with host=db password=*** sessionToken=***" in logged
    assert "connect failed for mysql://root:***@db/" in logged
