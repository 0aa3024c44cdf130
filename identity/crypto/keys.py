"""RSA signing keys: generation, RFC 7638 thumbprints, RFC 7517 JWKs, encryption at rest."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from identity.errors import ConfigError


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_b64(number: int) -> str:
    return b64url(number.to_bytes((number.bit_length() + 7) // 8, "big"))


def generate_rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    """A fresh RSA key; RFC 7518 §3.3 requires 2048 bits or more for RS256."""
    if bits < 2048:
        raise ValueError("RS256 keys must be at least 2048 bits")
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def public_jwk(public_key: rsa.RSAPublicKey) -> dict[str, str]:
    """The RFC 7517 JWK of a public key, ``kid`` = its RFC 7638 thumbprint."""
    numbers = public_key.public_numbers()
    jwk = {"kty": "RSA", "n": _int_b64(numbers.n), "e": _int_b64(numbers.e)}
    return {**jwk, "kid": thumbprint(jwk), "use": "sig", "alg": "RS256"}


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 §3: SHA-256 over the required members, sorted, no whitespace."""
    required = {name: jwk[name] for name in ("e", "kty", "n")}
    canonical = json.dumps(required, separators=(",", ":"), sort_keys=True).encode()
    return b64url(hashlib.sha256(canonical).digest())


def encrypt_private_key(key: rsa.RSAPrivateKey, passphrase: str) -> bytes:
    """PKCS#8 PEM encrypted with the passphrase (``BEGIN ENCRYPTED PRIVATE KEY``)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode()),
    )


def decrypt_private_key(pem: bytes, passphrase: str) -> rsa.RSAPrivateKey:
    """Load an encrypted private key; a wrong passphrase is a configuration error."""
    try:
        key = serialization.load_pem_private_key(pem, password=passphrase.encode())
    except (ValueError, TypeError):
        raise ConfigError(
            "IDENTITY_KEY_PASSPHRASE", "cannot decrypt the signing keys (wrong passphrase?)"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError("IDENTITY_KEY_PASSPHRASE", "a stored signing key is not RSA")
    return key


def public_pem(public_key: rsa.RSAPublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
