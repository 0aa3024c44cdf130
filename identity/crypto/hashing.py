"""Hashing of high-entropy secrets (client secrets, API keys) and constant-time comparison."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def hash_secret(secret: str, pepper: str) -> str:
    """HMAC-SHA256(pepper, secret), hex. A slow hash buys nothing for 256-bit random secrets
    and would cap the token endpoint at a few dozen requests per second."""
    return hmac.new(pepper.encode(), secret.encode(), hashlib.sha256).hexdigest()


def matches(secret: str, stored_hash: str, pepper: str) -> bool:
    """Constant-time check of a presented secret against its stored hash."""
    return hmac.compare_digest(hash_secret(secret, pepper), stored_hash)


def random_secret(nbytes: int = 32) -> str:
    """URL-safe random string with ``nbytes`` bytes (default 256 bits) of entropy."""
    return secrets.token_urlsafe(nbytes)
