"""JWT verification with RFC 8725 discipline.

- §3.1: the algorithm is the one of the key ``kid`` names (RS256 for RSA, ES256 for P-256);
  the header's ``alg`` must say exactly that.
- §3.11: ``typ`` is checked so that token kinds cannot be substituted for one another.
- ``kid`` is only ever a dictionary key into our own ring: never a path, URL or query.
- ``jku``, ``x5u``, ``jwk`` and ``x5c`` headers are ignored (§3.10 / RFC 9700 §2.5 spirit).
- ``iss``, ``aud``, ``exp``, ``nbf`` and ``iat`` are checked with a small leeway.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import jwt

from identity.crypto.keys import PublicKey, algorithm_of
from identity.errors import InvalidToken

KeyLookup = Callable[[str], "PublicKey | None"]


def verify(
    token: str,
    *,
    lookup: KeyLookup,
    typ: str,
    issuer: str,
    audience: str | None,
    leeway: int,
    now: datetime | None = None,
    required: tuple[str, ...] = ("exp", "iat", "iss"),
) -> dict[str, Any]:
    """Verify ``token`` and return its claims, or raise ``InvalidToken`` (never returns None)."""
    if not isinstance(token, str) or token.count(".") != 2 or len(token) > 8192:
        raise InvalidToken()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise InvalidToken() from None
    kid = header.get("kid")
    if header.get("typ") != typ or not isinstance(kid, str):
        raise InvalidToken()
    key = lookup(kid)
    if key is None or header.get("alg") != algorithm_of(key):
        raise InvalidToken()
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[header["alg"]],
            audience=audience,
            issuer=issuer,
            leeway=leeway,
            options={"require": list(required), "verify_aud": audience is not None},
        )
    except jwt.PyJWTError:
        raise InvalidToken() from None
    if now is not None:
        _check_times(claims, now, leeway)
    return claims


def _check_times(claims: dict[str, Any], now: datetime, leeway: int) -> None:
    """Re-check exp/nbf against an injected clock (tests and frozen-time verification)."""
    ts = now.timestamp()
    if "exp" in claims and ts > float(claims["exp"]) + leeway:
        raise InvalidToken()
    if "nbf" in claims and ts < float(claims["nbf"]) - leeway:
        raise InvalidToken()
