"""Inbox vendors' secure-mode token formats (docs/inbox.md), exact, with the algorithm pinned.

The vendor fixes the algorithm; the key never chooses it (a key of the wrong kind was refused
at import). Pure: time, keys and identifiers are passed in.

    vendor      algorithm     payload
    engagespot  RS256         {sub: "user:<id>", apiKey, iat, exp}
    knock       RS256         {sub: "<id>", iat, exp}
    suprsend    ES256         {entity_type: "subscriber", entity_id: "<id>", iat, exp}
    novu        HMAC-SHA256   lowercase hex of HMAC(secret, id) — not a JWT, never expires
    magicbell   HS256         {user_external_id: "<id>", api_key, exp}
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization

from identity.crypto.key_import import KeyKind

INBOX_TYP = "JWT"


@dataclass(frozen=True)
class Vendor:
    name: str
    algorithm: str
    key_kind: KeyKind
    api_key: bool  # the payload carries the app's vendor API key
    own_key: bool  # may be signed with our RS256 key ring instead (vendor takes a public key)
    expires: bool = True


VENDORS: dict[str, Vendor] = {
    v.name: v
    for v in (
        Vendor("engagespot", "RS256", "rsa", api_key=True, own_key=True),
        Vendor("knock", "RS256", "rsa", api_key=False, own_key=True),
        Vendor("suprsend", "ES256", "ec-p256", api_key=False, own_key=False),
        Vendor("novu", "HMAC-SHA256", "secret", api_key=False, own_key=False, expires=False),
        Vendor("magicbell", "HS256", "secret", api_key=True, own_key=False),
    )
}


@dataclass(frozen=True)
class Issue:
    """What one token says: for whom, the app's API key, and when (``now`` in epoch seconds)."""

    identifier: str
    api_key: str | None
    now: int
    lifetime: int
    iat_backdate: int = 0  # a vendor whose clock lags refuses an ``iat`` in its future


def claims(vendor: Vendor, issue: Issue) -> dict[str, Any]:
    """The vendor's payload, exactly (nothing the vendor did not list)."""
    iat, exp = issue.now - issue.iat_backdate, issue.now + issue.lifetime
    if vendor.name == "engagespot":
        return {"sub": f"user:{issue.identifier}", "apiKey": issue.api_key, "iat": iat, "exp": exp}
    if vendor.name == "knock":
        return {"sub": issue.identifier, "iat": iat, "exp": exp}
    if vendor.name == "suprsend":
        return {
            "entity_type": "subscriber",
            "entity_id": issue.identifier,
            "iat": iat,
            "exp": exp,
        }
    if vendor.name == "magicbell":
        return {"user_external_id": issue.identifier, "api_key": issue.api_key, "exp": exp}
    raise ValueError(f"{vendor.name} tokens are not JWTs")


def signing_key(vendor: Vendor, material: str) -> Any:
    """The object to sign with: a loaded private key (loading costs ms: callers cache it)."""
    if vendor.key_kind == "secret":
        return material.encode()
    return serialization.load_pem_private_key(material.encode(), password=None)


def sign(vendor: Vendor, key: Any, issue: Issue) -> tuple[str, int | None]:
    """The token and its ``expires_in`` (None: the vendor's format never expires)."""
    if vendor.name == "novu":
        # Novu's subscriberHash: hex HMAC-SHA256(secret, subscriberId)
        return hmac.new(key, issue.identifier.encode(), hashlib.sha256).hexdigest(), None
    token = jwt.encode(claims(vendor, issue), key, algorithm=vendor.algorithm)
    return token, issue.lifetime
