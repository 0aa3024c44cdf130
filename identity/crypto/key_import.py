"""Import an inbox vendor's key material as it arrives in real life (pure: bytes in, key out).

A vendor console hands out a private key as PEM, as base64 of the PEM (Knock, SuprSend), or it
reaches us through an environment variable whose newlines turned into the two characters ``\\n``.
All three are accepted; the key is then checked against what the vendor's algorithm needs, and
re-serialised as unencrypted PKCS#8 PEM (the caller seals it at rest).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Literal

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

KeyKind = Literal["rsa", "ec-p256", "secret"]
MIN_RSA_BITS = 2048
MAX_KEY_BYTES = 16 * 1024
PEM_BEGIN = b"-----BEGIN"
# The PEM blocks that hold a key (RFC 7468 labels: PRIVATE KEY, RSA PRIVATE KEY, EC PRIVATE KEY,
# ENCRYPTED PRIVATE KEY, PUBLIC KEY, ...); "EC PARAMETERS" before an EC key is not one.
KEY_BLOCK = re.compile(rb"-----BEGIN [A-Z0-9 ]*KEY-----")

EXPECTED = {
    "rsa": f"an RSA private key of at least {MIN_RSA_BITS} bits (PEM, or base64 of the PEM)",
    "ec-p256": "an EC P-256 (prime256v1) private key (PEM, or base64 of the PEM)",
    "secret": "a non-empty shared secret",
}


class KeyImportError(ValueError):
    """The key material is not what the vendor needs; the message says what was expected."""


@dataclass(frozen=True)
class ImportedKey:
    """Key material ready to seal: PKCS#8 PEM for asymmetric keys, the secret for HMAC."""

    kind: KeyKind
    material: str
    description: str  # e.g. "RSA 2048 bits": safe to print

    def __repr__(self) -> str:
        return f"ImportedKey(kind={self.kind!r}, description={self.description!r})"


def import_key(raw: bytes | str, kind: KeyKind, vendor: str) -> ImportedKey:
    """Validate ``raw`` as the ``kind`` of key ``vendor`` signs with; raise KeyImportError."""
    data = raw.encode() if isinstance(raw, str) else bytes(raw)
    if len(data) > MAX_KEY_BYTES:
        raise KeyImportError(f"{vendor}: key material too large; expected {EXPECTED[kind]}")
    if kind == "secret":
        return _import_secret(data, vendor)
    pem = pem_from(data, vendor, kind)
    _one_key(pem, vendor, kind)
    key = _load_private_key(pem, vendor, kind)
    description = _check(key, kind, vendor)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return ImportedKey(kind, pem.decode("ascii"), description)


def pem_from(data: bytes, vendor: str, kind: KeyKind) -> bytes:
    """The PEM inside ``data``: as is, with escaped newlines restored, or base64-decoded."""
    text = data.strip().strip(b"\"'").strip()
    if PEM_BEGIN in text:
        return text.replace(b"\\r", b"").replace(b"\\n", b"\n")
    try:
        decoded = base64.b64decode(b"".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    if PEM_BEGIN in decoded:
        return pem_from(decoded, vendor, kind)
    raise KeyImportError(f"{vendor}: not a PEM key nor base64 of one; expected {EXPECTED[kind]}")


def _one_key(pem: bytes, vendor: str, kind: KeyKind) -> None:
    """Refuse a file of several keys: which one was meant cannot be guessed, and the PEM reader
    would silently take the first."""
    count = len(KEY_BLOCK.findall(pem))
    if count > 1:
        raise KeyImportError(
            f"{vendor}: the key material holds {count} keys; a key import holds exactly one "
            f"key ({EXPECTED[kind]})"
        )


def _load_private_key(pem: bytes, vendor: str, kind: KeyKind) -> PrivateKeyTypes:
    if b"PUBLIC KEY" in pem and b"PRIVATE KEY" not in pem:
        raise KeyImportError(
            f"{vendor}: this is a public key; import the private key the vendor console "
            f"let you download ({EXPECTED[kind]})"
        )
    try:
        return serialization.load_pem_private_key(pem, password=None)
    except TypeError:  # "Password was not given but private key is encrypted"
        raise KeyImportError(
            f"{vendor}: the PEM is encrypted; decrypt it first "
            "(openssl pkey -in private.key -out plain.key) and import the plain key"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise KeyImportError(f"{vendor}: unreadable PEM; expected {EXPECTED[kind]}") from None


def _check(key: PrivateKeyTypes, kind: KeyKind, vendor: str) -> str:
    if kind == "rsa":
        if not isinstance(key, rsa.RSAPrivateKey):
            raise KeyImportError(f"{vendor}: got {_name(key)}; expected {EXPECTED[kind]}")
        if key.key_size < MIN_RSA_BITS:
            raise KeyImportError(
                f"{vendor}: RSA key of {key.key_size} bits is too short; expected {EXPECTED[kind]}"
            )
        return f"RSA {key.key_size} bits"
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise KeyImportError(f"{vendor}: got {_name(key)}; expected {EXPECTED[kind]}")
    if not isinstance(key.curve, ec.SECP256R1):
        raise KeyImportError(
            f"{vendor}: EC key on curve {key.curve.name}; expected {EXPECTED[kind]}"
        )
    return "EC P-256"


def _name(key: object) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        return f"an RSA key ({key.key_size} bits)"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return f"an EC key on curve {key.curve.name}"
    return f"a {type(key).__name__.removeprefix('_')} key"


def _import_secret(data: bytes, vendor: str) -> ImportedKey:
    try:
        secret = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise KeyImportError(f"{vendor}: the secret is not UTF-8 text") from None
    if not secret:
        raise KeyImportError(f"{vendor}: empty secret; expected {EXPECTED['secret']}")
    if PEM_BEGIN.decode() in secret:
        raise KeyImportError(f"{vendor}: got a PEM key; expected {EXPECTED['secret']}")
    return ImportedKey("secret", secret, f"secret of {len(secret)} characters")
