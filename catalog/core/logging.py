import logging

from catalog.core.sourceurl import scrub


class RedactSecretsFilter(logging.Filter):
    """Masks URL passwords in every log record, whoever logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is not ours to break
            return True
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
