"""The one signer every issuer uses: claims in, compact JWS out (``alg`` from the key, ``kid``,
``typ``)."""

from __future__ import annotations

from typing import Any

import jwt

from identity.crypto.keys import PrivateKey, algorithm_of


def sign(claims: dict[str, Any], key: PrivateKey, kid: str, typ: str) -> str:
    """RS256 or ES256 compact JWS; header is exactly ``alg``, ``typ``, ``kid`` (RFC 8725 §3.11)."""
    # The key object is passed as is: re-loading a PEM per token would cost tens of ms.
    algorithm = algorithm_of(key)
    return jwt.encode(claims, key, algorithm=algorithm, headers={"typ": typ, "kid": kid})
