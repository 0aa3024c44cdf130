"""Action helpers for ``private_key_jwt``: partner key pairs, JWK Sets, signed client assertions."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flask import Flask

from identity.extensions import services
from identity.services.clients import PRIVATE_KEY_JWT, ClientAuth

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ISSUER = "http://identity.test"  # tests/conftest.py TEST_SECRETS
TOKEN_URL = f"{ISSUER}/access_token"


@dataclass
class PartnerKey:
    """A partner's key pair: the private half stays here, the public half is registered."""

    private: Any
    kid: str
    alg: str

    def public_jwk(self) -> dict[str, Any]:
        algorithm = (
            jwt.algorithms.RSAAlgorithm if self.alg == "RS256" else jwt.algorithms.ECAlgorithm
        )
        jwk = json.loads(algorithm.to_jwk(self.private.public_key()))
        return {**jwk, "kid": self.kid, "alg": self.alg, "use": "sig"}

    def private_jwk(self) -> dict[str, Any]:
        algorithm = (
            jwt.algorithms.RSAAlgorithm if self.alg == "RS256" else jwt.algorithms.ECAlgorithm
        )
        return {**json.loads(algorithm.to_jwk(self.private)), "kid": self.kid, "alg": self.alg}


_RSA: list[Any] = []


def rsa_key(kid: str | None = None) -> PartnerKey:
    """An RSA-2048 partner key (generated once per session, then reused under new kids)."""
    if not _RSA:
        _RSA.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return PartnerKey(_RSA[0], kid or f"rsa-{uuid.uuid4().hex[:8]}", "RS256")


def fresh_rsa_key(kid: str | None = None) -> PartnerKey:
    """An RSA key nobody else holds (for "a key that is not registered")."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return PartnerKey(private, kid or f"rsa-{uuid.uuid4().hex[:8]}", "RS256")


def ec_key(kid: str | None = None) -> PartnerKey:
    return PartnerKey(
        ec.generate_private_key(ec.SECP256R1()), kid or f"ec-{uuid.uuid4().hex[:8]}", "ES256"
    )


def jwks(*keys: PartnerKey) -> dict[str, Any]:
    return {"keys": [k.public_jwk() for k in keys]}


@dataclass
class AssertionClient:
    client_id: str
    keys: list[PartnerKey] = field(default_factory=list)

    def assertion(self, **overrides: Any) -> str:
        return assertion(self.client_id, self.keys[0], **overrides)


def make_assertion_client(
    app: Flask, *keys: PartnerKey, scope: str = "profile:read", jwks_uri: str | None = None
) -> AssertionClient:
    """A ``private_key_jwt`` client registered with ``keys`` (or with ``jwks_uri``)."""
    auth = ClientAuth(PRIVATE_KEY_JWT, None if jwks_uri else json.dumps(jwks(*keys)), jwks_uri)
    with app.app_context():
        created = services().clients.create("assertion partner", scope, auth=auth)
    assert created.client_secret is None
    return AssertionClient(created.client_id, list(keys))


def assertion(
    client_id: str,
    key: PartnerKey,
    *,
    aud: Any = TOKEN_URL,
    lifetime: int = 60,
    headers: dict[str, Any] | None = None,
    drop: tuple[str, ...] = (),
    **claims: Any,
) -> str:
    """An RFC 7523 client assertion signed with ``key`` (fresh jti unless given)."""
    now = int(time.time())
    payload = {
        "iss": client_id,
        "sub": client_id,
        "aud": aud,
        "iat": now,
        "exp": now + lifetime,
        "jti": uuid.uuid4().hex,
        **claims,
    }
    for name in drop:
        payload.pop(name, None)
    return jwt.encode(payload, key.private, key.alg, headers={"kid": key.kid, **(headers or {})})


def assertion_form(assertion_: str, **extra: str) -> dict[str, str]:
    return {
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion_,
        **extra,
    }


def cli_refusal(result: Any) -> str:
    """What the console script prints for a refused command: the output, or the service's
    refusal in one line (an ``IdentityError`` reaches the console script, which prints it)."""
    from identity.errors import IdentityError

    assert result.exit_code != 0, result.output
    if isinstance(result.exception, IdentityError):
        return str(result.exception.one_line())
    return str(result.output)
