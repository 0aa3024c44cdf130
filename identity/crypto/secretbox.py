"""Authenticated encryption at rest for upstream credentials and cached tokens (Fernet).

Several keys may be configured, newest first: the newest encrypts, all decrypt, so a key can be
rotated by prepending a new one and re-encrypting (``identity upstream reencrypt``).
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from identity.errors import ConfigError


class SecretBox:
    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ConfigError("IDENTITY_ENCRYPTION_KEYS", "required")
        try:
            self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])
        except (ValueError, TypeError):
            raise ConfigError(
                "IDENTITY_ENCRYPTION_KEYS", "each key must be 32 url-safe base64-encoded bytes"
            ) from None

    def __repr__(self) -> str:
        return "SecretBox(***)"

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode()
        except (InvalidToken, ValueError):
            raise ConfigError(
                "IDENTITY_ENCRYPTION_KEYS", "cannot decrypt stored data (key removed?)"
            ) from None

    def rotate(self, sealed: str) -> str:
        """Re-encrypt under the newest key."""
        return self._fernet.rotate(sealed.encode("ascii")).decode("ascii")
