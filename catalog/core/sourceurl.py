"""Source URLs: parsing, redaction and the secret parts. Django-free.

A source is configured by one URL (``postgresql://user:pass@host:5432/db``).
The password and any secret query parameter are the secret parts: they are
stored encrypted and are shown, logged and reported only as ``***``.

A query parameter is secret by the shape of its name (``is_secret_key``: ``api_key``,
``sessionToken``, ``client_secret``, ``*_key``, ``password``...), not by a list of the
engines' spellings. Free text (driver errors, log lines) is scrubbed of whole values as
tokens, never of substrings inside words: a one-letter password must neither garble
"password authentication failed" nor show which letters it has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote, urlsplit

MASK = "***"

# A key names a secret when, lower-cased without "_", "-" and ".", it ends with one of these: password,
# sslpassword, private_key_passphrase, client_secret, aws_secret_access_key, api_key, apiKey, private_key, key,
# token, sessionToken, x-amz-security-token, credentials, credentials_json, X-Amz-Signature. Ends, not contains:
# password_hash or secret_name is a column or a label, api_key_id names a key without being one.
_SECRET_ENDINGS = ("password", "passwd", "passphrase", "pwd", "secret", "key", "token", "signature", "credential",
                   "credentials", "credentialsjson")
# Keys of that shape that name no secret: the TLS file paths libpq takes, and the keys of tables and partitions
# that engines' messages speak of.
_NOT_SECRET_KEYS = frozenset({
    "sslkey", "sslcert", "sslrootcert", "sslcrl", "publickey", "primarykey", "foreignkey", "uniquekey", "sortkey",
    "distkey", "partitionkey", "clusterkey", "clusteringkey", "shardkey", "surrogatekey", "naturalkey",
    "businesskey", "idempotencykey", "cachekey", "objectkey", "s3key", "rowkey",
})

_SCHEME_RE = re.compile(r"^[a-z][a-z0-9+.-]*$")
# user:password@ inside any URL-looking text, for scrubbing free text (logs, errors).
_USERINFO_RE = re.compile(r"(?P<prefix>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<secret>[^@\s]+)@", re.I)
# key=value, key: value, "key": "value" and 'key': 'value' in free text. The key is a whole word (not the end of
# a dotted name such as a table's, sales.api_key: ...); the value is a quoted string, or runs to the next space,
# separator or closing bracket.
_PAIR_RE = re.compile(
    r"""(?P<key>(?<![\w.-])(?P<q>["']?)[A-Za-z][\w-]*(?P=q))(?P<sep>\s*(?:=|:(?!//))\s*)"""
    r"""(?P<value>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s"'&,;)\]}>]+)"""
)
# Answers to "was a password given?" that drivers print beside the word (MySQL: "using password: YES").
_PRESENCE_ANSWERS = frozenset({"YES", "NO"})
# A known secret this long is also hidden inside longer words: it cannot pass for part of an ordinary word.
_SUBSTRING_MIN = 8


def is_secret_key(key: str) -> bool:
    """Whether a parameter or field named key holds a secret (by its name's shape, whatever the engine)."""
    name = re.sub(r"[-_.\s]", "", key).lower()
    if not name or name in _NOT_SECRET_KEYS:
        return False
    return name.endswith(_SECRET_ENDINGS)


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
        values += [v for k, v in self.query.items() if is_secret_key(k) and v]
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
                shown = MASK if is_secret_key(key) and value else value
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
    """Free text with its secrets shown as ***: any URL's password, the value of any pair whose key names a
    secret, and each known secret value where it stands as a whole token (or anywhere, when it is long)."""
    if not text:
        return text
    text = _USERINFO_RE.sub(lambda m: m.group("prefix") + MASK + "@", text)
    text = _PAIR_RE.sub(_mask_pair, text)
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        if len(secret) >= _SUBSTRING_MIN:
            text = text.replace(secret, MASK)
        else:
            # Not next to a letter or digit it would be part of; the secret's own edges may be punctuation.
            before = r"(?<![^\W_])" if re.match(r"[^\W_]", secret) else ""
            after = r"(?![^\W_])" if re.search(r"[^\W_]$", secret) else ""
            text = re.sub(before + re.escape(secret) + after, MASK, text)
    return text


def _mask_pair(match: re.Match) -> str:
    key, value = match.group("key"), match.group("value")
    if not is_secret_key(key.strip("\"'")) or value == MASK or value in _PRESENCE_ANSWERS:
        return match.group(0)
    quote_mark = value[0] if value[0] in "\"'" and len(value) > 1 and value[-1] == value[0] else ""
    return f"{key}{match.group('sep')}{quote_mark}{MASK}{quote_mark}"
