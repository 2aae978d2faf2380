"""Encryption at rest for source credentials (Fernet).

The key comes from CANON_ENCRYPTION_KEY. The embedded default, which has no
environment to speak of, generates one once into var/encryption.key (mode 600).
"""

from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from catalog.core.keys import kept_key


class DecryptionError(Exception):
    """Stored secret cannot be decrypted: the key changed."""


@lru_cache(maxsize=1)
def _fernet() -> Fernet:
    key = settings.CANON_ENCRYPTION_KEY
    if not key:
        key = kept_key(Path(settings.VAR_DIR) / "encryption.key", Fernet.generate_key)
    try:
        return Fernet(key)
    except (ValueError, TypeError):
        raise ImproperlyConfigured(
            "CANON_ENCRYPTION_KEY is not a Fernet key (32 url-safe base64-encoded bytes); "
            "make one with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        ) from None


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError(
            "The stored credentials cannot be decrypted: CANON_ENCRYPTION_KEY is not the key they were saved with."
        ) from None
