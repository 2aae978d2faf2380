"""Why an email could not be sent, in words for the person it was for (no Django).

The outbox keeps each failure as "ExceptionClass: message" (scrubbed of secrets when it is
written); the Watching page shows this explanation above it. Names are matched, not classes,
because only the stored text is left by the time a page is drawn.
"""

from __future__ import annotations

import re

# Checked in order: the first exception name found at the start of the error decides.
_BY_EXCEPTION = (
    ("SMTPRecipientsRefused", "The mail server refused your email address."),
    ("SMTPSenderRefused", "The mail server refused Canon's sender address (a setting of Canon's, not yours)."),
    ("SMTPAuthenticationError", "Canon could not log in to its mail server (a setting of Canon's, not yours)."),
    ("SMTPNotSupportedError", "Canon's mail server does not support what Canon asked of it (a setting of Canon's)."),
    ("SMTPDataError", "The mail server refused the message."),
    ("SMTPConnectError", "Canon's mail server refused the connection."),
    ("SMTPServerDisconnected", "Canon's mail server closed the connection before the email was sent."),
    ("SMTPHeloError", "Canon's mail server refused Canon's greeting."),
    ("ConnectionRefusedError", "Canon's mail server could not be reached: nothing answers at its address (it may be down)."),
    ("ConnectionResetError", "Canon's mail server dropped the connection."),
    ("gaierror", "Canon could not find its mail server: the server's name does not resolve."),
    ("TimeoutError", "Canon's mail server did not answer in time."),
    ("timeout", "Canon's mail server did not answer in time."),
    ("SSLCertVerificationError", "Canon's mail server's certificate could not be verified."),
    ("SSLError", "Canon could not set up a secure connection to its mail server."),
    ("OSError", "Canon's mail server could not be reached."),
)

# Permanent SMTP replies about the mailbox (RFC 3463 enhanced status codes).
_MAILBOX_CODES = (
    ("5.1.1", "the mailbox does not exist"),
    ("5.1.2", "the domain of your address does not exist"),
    ("5.2.1", "the mailbox is disabled"),
    ("5.2.2", "the mailbox is full"),
    ("4.2.2", "the mailbox is full for now"),
)


def send_error_in_words(error: str) -> str:
    """One sentence saying why sending failed, from an outbox message's last_error."""
    error = (error or "").strip()
    if not error:
        return "The email could not be sent."
    name = re.split(r"[:\s(]", error, maxsplit=1)[0].rsplit(".", 1)[-1]
    words = next((text for exception, text in _BY_EXCEPTION if name == exception), "The email could not be sent.")
    detail = next((why for code, why in _MAILBOX_CODES if code in error), None)
    if detail:
        words = f"{words[:-1]}: {detail}."
    return words
