"""Signing keys: RSA (RS256) and EC P-256 (ES256) generation, RFC 7638 thumbprints, RFC 7517
JWKs, encryption at rest."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from identity.errors import ConfigError

RS256 = "RS256"
ES256 = "ES256"
ALGORITHMS = (RS256, ES256)  # every algorithm the key ring signs with

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey

# RFC 7638 §3.2: the required members of each key type, in the thumbprint's input.
_THUMBPRINT_MEMBERS = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y")}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_b64(number: int, length: int | None = None) -> str:
    return b64url(number.to_bytes(length or (number.bit_length() + 7) // 8, "big"))


def generate_rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    """A fresh RSA key; RFC 7518 §3.3 requires 2048 bits or more for RS256."""
    if bits < 2048:
        raise ValueError("RS256 keys must be at least 2048 bits")
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def generate_ec_key() -> ec.EllipticCurvePrivateKey:
    """A fresh P-256 key, the curve RFC 7518 §3.4 names for ES256."""
    return ec.generate_private_key(ec.SECP256R1())


def generate_key(alg: str, bits: int = 2048) -> PrivateKey:
    return generate_ec_key() if alg == ES256 else generate_rsa_key(bits)


def algorithm_of(key: PrivateKey | PublicKey) -> str:
    """The one JWS algorithm a key signs or verifies with (RFC 8725 §3.1: the key decides)."""
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return RS256
    if isinstance(key.curve, ec.SECP256R1):
        return ES256
    raise ValueError("only RSA and EC P-256 keys sign here")


def public_jwk(public_key: PublicKey) -> dict[str, str]:
    """The RFC 7517 JWK of a public key, ``kid`` = its RFC 7638 thumbprint."""
    jwk: dict[str, str]
    if isinstance(public_key, rsa.RSAPublicKey):
        numbers = public_key.public_numbers()
        jwk = {"kty": "RSA", "n": _int_b64(numbers.n), "e": _int_b64(numbers.e)}
    else:
        point = public_key.public_numbers()
        # RFC 7518 §6.2.1.2: x and y are the full 32 octets of the coordinate.
        jwk = {"kty": "EC", "crv": "P-256", "x": _int_b64(point.x, 32), "y": _int_b64(point.y, 32)}
    return {**jwk, "kid": thumbprint(jwk), "use": "sig", "alg": algorithm_of(public_key)}


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 §3: SHA-256 over the required members, sorted, no whitespace."""
    required = {name: jwk[name] for name in _THUMBPRINT_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(required, separators=(",", ":"), sort_keys=True).encode()
    return b64url(hashlib.sha256(canonical).digest())


def encrypt_private_key(key: PrivateKey, passphrase: str) -> bytes:
    """PKCS#8 PEM encrypted with the passphrase (``BEGIN ENCRYPTED PRIVATE KEY``)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode()),
    )


def decrypt_private_key(pem: bytes, passphrase: str) -> PrivateKey:
    """Load an encrypted private key; a wrong passphrase is a configuration error."""
    try:
        key = serialization.load_pem_private_key(pem, password=passphrase.encode())
    except (ValueError, TypeError):
        raise ConfigError(
            "IDENTITY_KEY_PASSPHRASE", "cannot decrypt the signing keys (wrong passphrase?)"
        ) from None
    if isinstance(key, rsa.RSAPrivateKey) or (
        isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1)
    ):
        return key
    raise ConfigError("IDENTITY_KEY_PASSPHRASE", "a stored signing key is neither RSA nor P-256")


def public_pem(public_key: PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
