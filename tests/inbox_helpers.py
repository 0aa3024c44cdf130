"""Vendor-style keys generated at test time (never committed), in every form vendors hand out."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import cache
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flask import Flask

MAGICBELL_SECRET = "mb-secret-" + "s" * 40  # PyJWT warns below 32 bytes for HS256
NOVU_SECRET = "novu-secret-" + "n" * 30


@dataclass(frozen=True)
class VendorKey:
    private: Any

    @property
    def pem(self) -> str:
        return self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    @property
    def public_pem(self) -> str:
        return (
            self.private.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def form(self, name: str) -> str:
        """The key as it arrives: ``pem``, ``escaped`` (env-var \\n accident), ``base64``."""
        if name == "escaped":
            return self.pem.strip().replace("\n", "\\n")
        if name == "base64":
            return base64.b64encode(self.pem.encode()).decode()
        return self.pem


@cache
def rsa_key(index: int = 0, bits: int = 2048) -> VendorKey:
    return VendorKey(rsa.generate_private_key(public_exponent=65537, key_size=bits))


@cache
def ec_key(index: int = 0, curve: str = "p256") -> VendorKey:
    curves = {"p256": ec.SECP256R1(), "p384": ec.SECP384R1()}
    return VendorKey(ec.generate_private_key(curves[curve]))


def encrypted_pem(key: VendorKey) -> str:
    return key.private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    ).decode()


def cli(app: Flask, *args: str, stdin: str | None = None) -> Any:
    """Run ``identity <args>`` against ``app``; returns click's result."""
    return app.test_cli_runner().invoke(args=["identity", *args], input=stdin)
