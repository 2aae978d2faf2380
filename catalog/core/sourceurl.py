"""Source URLs: parsing, redaction and the secret parts. Django-free.

A source is configured by one URL (``postgresql://user:pass@host:5432/db``).
The password and any secret query parameter are the secret parts: they are
stored encrypted and are shown, logged and reported only as ``***``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote, urlsplit

MASK = "***"

# Query parameters whose values are secrets, whatever the engine.
SECRET_PARAMS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "secret",
        "token",
        "access_token",
        "private_key",
        "private_key_passphrase",
        "credentials",
        "credentials_json",
        "aws_secret_access_key",
        "secret_access_key",
        "aws_session_token",
        "session_token",
        "sslpassword",
    }
)

_SCHEME_RE = re.compile(r"^[a-z][a-z0-9+.-]*$")
# user:password@ inside any URL-looking text, for scrubbing free text (logs, errors).
_USERINFO_RE = re.compile(r"(?P<prefix>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<secret>[^@\s]+)@", re.I)


class InvalidSourceURL(ValueError):
    """The URL cannot be used. The message never contains a secret."""


@dataclass(frozen=True)
class SourceURL:
    scheme: str
    username: str = ""
    password: str = ""
    host: str = ""
    port: int | None = None
    path: str = ""
    query: dict[str, str] = field(default_factory=dict)
    raw: str = field(default="", repr=False, compare=False)

    @property
    def database(self) -> str:
        return self.path.lstrip("/")

    def secrets(self) -> list[str]:
        values = [self.password] if self.password else []
        values += [v for k, v in self.query.items() if k.lower() in SECRET_PARAMS and v]
        # Percent-encoded forms appear in raw text too.
        return sorted({*values, *(quote(v, safe="") for v in values)}, key=len, reverse=True)

    def redacted(self) -> str:
        netloc = ""
        if self.username or self.password:
            netloc = quote(self.username, safe="")
            if self.password:
                netloc += ":" + MASK
            netloc += "@"
        host = self.host
        if ":" in host:  # IPv6 literal
            host = f"[{host}]"
        netloc += host
        if self.port is not None:
            netloc += f":{self.port}"
        text = f"{self.scheme}://{netloc}{self.path}"
        if self.query:
            parts = []
            for key, value in self.query.items():
                shown = MASK if key.lower() in SECRET_PARAMS and value else value
                parts.append(f"{key}={shown}")
            text += "?" + "&".join(parts)
        return text


def parse_source_url(url: str) -> SourceURL:
    text = (url or "").strip()
    if not text:
        raise InvalidSourceURL("The URL is empty.")
    if "://" not in text:
        raise InvalidSourceURL(
            "The URL has no scheme: write it as scheme://…, for example "
            "postgresql://user:password@host:5432/database."
        )
    scheme = text.split("://", 1)[0].lower()
    if not _SCHEME_RE.match(scheme):
        raise InvalidSourceURL(f"'{scheme}' is not a valid URL scheme.")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        # urlsplit's messages can quote the netloc; say what is wrong without it.
        reason = "the port is not a number between 0 and 65535" if "port" in str(exc).lower() else "it is malformed"
        raise InvalidSourceURL(f"The URL cannot be read: {reason}.") from None
    query = {k: v for k, v in parse_qsl(parts.query, keep_blank_values=True)}
    return SourceURL(
        scheme=scheme,
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        host=parts.hostname or "",
        port=port,
        path=unquote(parts.path or ""),
        query=query,
        raw=text,
    )


def redact_url(url: str) -> str:
    """The URL as it may be shown. Falls back to scrubbing when it does not parse."""
    try:
        return parse_source_url(url).redacted()
    except InvalidSourceURL:
        return scrub(url)


def scrub(text: str, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """Remove known secret values and any URL password from free text."""
    if not text:
        return text
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return _USERINFO_RE.sub(lambda m: m.group("prefix") + MASK + "@", text)
