import logging

from catalog.core.sourceurl import scrub

_FORMATTER = logging.Formatter()


class RedactSecretsFilter(logging.Filter):
    """Masks secrets in every log record, whoever logged it: URL passwords and the values of secret-named
    pairs (``api_key=…``, ``"password": "…"``), in the message and in the traceback of a logged exception
    (a driver's exception can quote the connection string it was given)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is not ours to break
            return True
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            # Formatters use exc_text when it is set: formatted here as they would, so that it can be scrubbed.
            record.exc_text = _FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True
