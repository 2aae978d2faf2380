"""Keys the embedded default keeps for itself under var/ (Django-free: settings use it).

Production is given its keys in the environment; the embedded default has no environment to
speak of, so it makes each key once, into a file only its owner can read (mode 600), and reads
it back on every later start. Two processes starting together (the web server and its worker)
end up with the same key: a new key is written to a private temporary file and linked into
place, which fails for the second process, which then reads the first one's key.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path


class KeyFileError(Exception):
    """A key file exists but holds no key. The message names the file, never a key."""


def new_secret_key() -> str:
    """A Django SECRET_KEY: 50 random bytes, url-safe (67 characters)."""
    return secrets.token_urlsafe(50)


def kept_key(path: Path, make: Callable[[], str | bytes] = new_secret_key) -> str:
    """The key stored at path; made with make() and stored (mode 600) the first time."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)  # settings make no folder: the first key makes var/
        key = make()
        data = key.encode() if isinstance(key, str) else key
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(data + b"\n")
            try:
                os.link(temporary, path)  # fails if another process stored its key first: that one wins
            except FileExistsError:
                pass
        finally:
            temporary.unlink(missing_ok=True)
    key = path.read_text().strip()
    if not key:
        raise KeyFileError(f"{path} is empty: delete it to have a new key made, or set the key in the environment")
    return key
