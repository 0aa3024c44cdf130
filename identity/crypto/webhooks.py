"""Signatures of inbound calls: Infobip Exchange (HMAC-SHA256) and channel adapters (HMAC-SHA1).

Pure: no Flask, no I/O; the current time is passed in. Every check raises ``Unauthorized``
with a text that names the problem but never the expected value.
"""

from __future__ import annotations

import hashlib
import hmac

from identity.errors import Unauthorized

HUB_PREFIX = "sha1="
_LOWER_HEX = frozenset("0123456789abcdef")


def exchange_signature(secret: str, timestamp: str, body: bytes) -> str:
    """Lowercase hex HMAC-SHA256(signing secret, timestamp + raw body), as Exchange signs."""
    message = timestamp.encode("ascii") + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def hub_signature(secret: str, body: bytes) -> str:
    """``sha1=<hex HMAC-SHA1(app secret, raw body)>``, the ``X-Hub-Signature`` value."""
    return HUB_PREFIX + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def _is_lower_hex(value: str, length: int) -> bool:
    return len(value) == length and set(value) <= _LOWER_HEX


def parse_timestamp(raw: str | None) -> int:
    """The ``X-Ib-Exchange-Req-Timestamp`` header as integer milliseconds."""
    if not raw or not raw.isascii() or not raw.isdigit() or len(raw) > 15:
        raise Unauthorized("Missing or malformed request timestamp")
    return int(raw)


def check_window(timestamp_ms: int, now_ms: int, window_seconds: int) -> None:
    """Refuse a timestamp more than ``window_seconds`` before or after ``now_ms``."""
    if abs(now_ms - timestamp_ms) > window_seconds * 1000:
        raise Unauthorized("Request timestamp outside the accepted window")


def verify_exchange(
    secret: str,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now_ms: int,
    window_seconds: int,
) -> str:
    """Check an Exchange-signed request; return the verified signature (the replay key).

    The signature must be lowercase hex, as Exchange documents: an upper-case rendering of
    the same digest is refused (strict, one canonical form per request).
    """
    if not secret:
        raise Unauthorized("Signed requests are not configured")
    timestamp_ms = parse_timestamp(timestamp)
    if not signature or not _is_lower_hex(signature, 64):
        raise Unauthorized("Missing or malformed request signature")
    check_window(timestamp_ms, now_ms, window_seconds)
    expected = exchange_signature(secret, timestamp or "", body)
    if not hmac.compare_digest(expected, signature):
        raise Unauthorized("Invalid request signature")
    return signature


def verify_hub(secret: str, header: str | None, body: bytes) -> str:
    """Check an ``X-Hub-Signature: sha1=<hex>`` request; return the hex digest (replay key)."""
    if not secret:
        raise Unauthorized("Signed requests are not configured")
    if not header or not header.startswith(HUB_PREFIX):
        raise Unauthorized("Missing or malformed X-Hub-Signature")
    digest = header[len(HUB_PREFIX) :]
    if not _is_lower_hex(digest, 40):
        raise Unauthorized("Missing or malformed X-Hub-Signature")
    if not hmac.compare_digest(hub_signature(secret, body), header):
        raise Unauthorized("Invalid request signature")
    return digest


def token_matches(configured: str, presented: str | None) -> bool:
    """Constant-time check of an ``?access_token=`` value; never true when none is configured."""
    if not configured or not presented:
        return False
    return hmac.compare_digest(configured.encode(), presented.encode())
