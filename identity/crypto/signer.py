"""The one signer every issuer uses: claims in, compact JWS out (RS256, ``kid``, ``typ``)."""

from __future__ import annotations

from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa


def sign(claims: dict[str, Any], key: rsa.RSAPrivateKey, kid: str, typ: str) -> str:
    """RS256 compact JWS; header is exactly ``alg``, ``typ``, ``kid`` (RFC 8725 §3.11 typing)."""
    # The key object is passed as is: re-loading a PEM per token would cost tens of ms.
    return jwt.encode(claims, key, algorithm="RS256", headers={"typ": typ, "kid": kid})
