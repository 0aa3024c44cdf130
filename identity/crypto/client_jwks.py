"""A client's public JWK Set (RFC 7517 §5) for ``private_key_jwt``: validated, never private.

The set must hold only public keys a client assertion may be signed with (RFC 7523 §3):
RSA of at least 2048 bits for RS256, EC P-256 for ES256. Any private member (RFC 7518 §6.2.2,
§6.3.2, §6.4.1) refuses the whole set: the partner must keep the private half to itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ASSERTION_ALGS = ("RS256", "ES256")  # RFC 8414 token_endpoint_auth_signing_alg_values_supported
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "k", "oth")
MAX_KEYS = 20
MAX_BYTES = 64 * 1024


class InvalidJwks(ValueError):
    """The text is not a usable public JWK Set; the message says why (never key material)."""


@dataclass(frozen=True)
class PublicKey:
    kid: str | None
    alg: str
    key: Any  # an RSAPublicKey or EllipticCurvePublicKey

    def __repr__(self) -> str:
        return f"PublicKey(kid={self.kid!r}, alg={self.alg!r})"


def parse_jwks(raw: str | bytes | dict[str, Any]) -> tuple[dict[str, Any], list[PublicKey]]:
    """The canonical set (only the members kept) and its keys; ``InvalidJwks`` otherwise."""
    document = _load(raw)
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list) or not keys:
        raise InvalidJwks('not a JWK Set: expected {"keys": [...]} with at least one key')
    if len(keys) > MAX_KEYS:
        raise InvalidJwks(f"a JWK Set of at most {MAX_KEYS} keys")
    parsed = [_public_key(index, jwk) for index, jwk in enumerate(keys)]
    kids = [k.kid for k in parsed]
    if len(parsed) > 1 and (None in kids or len(set(kids)) != len(kids)):
        raise InvalidJwks("every key of a set of several needs its own kid")
    return {"keys": keys}, parsed


def find_key(keys: list[PublicKey], kid: str | None, alg: str) -> PublicKey | None:
    """The key named by ``kid`` (or the only key when the header names none) for ``alg``."""
    if kid is None:
        candidates = keys if len(keys) == 1 else []
    else:
        candidates = [k for k in keys if k.kid == kid]
    return next((k for k in candidates if k.alg == alg), None)


def _load(raw: str | bytes | dict[str, Any]) -> Any:
    if isinstance(raw, dict):
        return raw
    if len(raw) > MAX_BYTES:
        raise InvalidJwks(f"a JWK Set of at most {MAX_BYTES} bytes")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidJwks("not a JWK Set: not JSON") from None


def _public_key(index: int, jwk: Any) -> PublicKey:
    where = f"key {index}"
    if not isinstance(jwk, dict):
        raise InvalidJwks(f"{where}: not a JSON object")
    private = [m for m in PRIVATE_MEMBERS if m in jwk]
    if private:
        raise InvalidJwks(
            f"{where}: holds private key material ({', '.join(private)}); "
            "register the public key only and keep the private key with the client"
        )
    kty, kid, alg = jwk.get("kty"), jwk.get("kid"), jwk.get("alg")
    if kid is not None and (not isinstance(kid, str) or not 1 <= len(kid) <= 200):
        raise InvalidJwks(f"{where}: kid must be a string of 1-200 characters")
    expected = {"RSA": "RS256", "EC": "ES256"}.get(kty) if isinstance(kty, str) else None
    if expected is None:
        raise InvalidJwks(f"{where}: kty must be RSA (RS256) or EC (ES256)")
    if alg is not None and alg != expected:
        raise InvalidJwks(f"{where}: alg must be {expected} for a {kty} key")
    if jwk.get("use") not in (None, "sig"):
        raise InvalidJwks(f'{where}: use must be "sig"')
    try:
        key = jwt.PyJWK(jwk, expected).key
    except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError, KeyError):
        raise InvalidJwks(f"{where}: not a valid {kty} public key") from None
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < 2048:
        raise InvalidJwks(f"{where}: RSA keys need at least 2048 bits")
    if isinstance(key, ec.EllipticCurvePublicKey) and not isinstance(key.curve, ec.SECP256R1):
        raise InvalidJwks(f"{where}: EC keys must be on curve P-256")
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise InvalidJwks(f"{where}: not a public key")
    return PublicKey(kid, expected, key)
