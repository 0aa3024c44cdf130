"""RFC 8725 §2 attacks on the access-token check of protected endpoints: every one is 401."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask.testing import FlaskClient

from identity.crypto.keys import public_pem
from identity.extensions import services
from tests.conftest import access_token, bearer, service_error

ATTACKER = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PROTECTED = "/admin/clients"  # needs an access token with scope admin, nothing else


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def good_claims(app: Flask, **changes: Any) -> dict[str, Any]:
    settings = services(app).settings
    now = int(time.time())
    claims = {
        "iss": settings.issuer,
        "sub": "attacker",
        "client_id": "attacker",
        "aud": settings.access_audience,
        "scope": "admin",
        "iat": now,
        "exp": now + 600,
        "jti": "j" * 22,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def our_kid(app: Flask) -> str:
    with app.app_context():
        return str(services().keys.jwks()["keys"][0]["kid"])


def signed_by_us(app: Flask, typ: str = "at+jwt", **changes: Any) -> str:
    with app.app_context():
        return services().keys.sign(good_claims(app, **changes), typ)


def unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}.{b64(signature)}"


def alg_none(app: Flask) -> str:
    header = {"alg": "none", "typ": "at+jwt", "kid": our_kid(app)}
    return unsigned(header, good_claims(app))


def hs256_with_our_public_key(app: Flask) -> str:
    """The classic confusion: HMAC keyed with the PEM of our RSA public key."""
    with app.app_context():
        pem = public_pem(services().keys.active_public_key())
    header = {"alg": "HS256", "typ": "at+jwt", "kid": our_kid(app)}
    signing_input = (
        f"{b64(json.dumps(header).encode())}.{b64(json.dumps(good_claims(app)).encode())}"
    )
    mac = hmac.new(
        pem if isinstance(pem, bytes) else pem.encode(), signing_input.encode(), hashlib.sha256
    )
    return f"{signing_input}.{b64(mac.digest())}"


def attacker_signed(app: Flask, **headers: Any) -> str:
    return jwt.encode(
        good_claims(app), ATTACKER, algorithm="RS256", headers={"typ": "at+jwt", **headers}
    )


def attacker_jwk() -> dict[str, Any]:
    return json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(ATTACKER.public_key()))


ATTACKS: dict[str, Callable[[Flask], str]] = {
    "alg none": alg_none,
    "alg none, lower-case": lambda app: unsigned(
        {"alg": "None", "typ": "at+jwt", "kid": our_kid(app)}, good_claims(app)
    ),
    "HS256 keyed with our public key": hs256_with_our_public_key,
    "unknown kid": lambda app: attacker_signed(app, kid="unknown-kid"),
    "kid with a path": lambda app: attacker_signed(app, kid="../../../../../dev/null"),
    "kid with SQL": lambda app: attacker_signed(app, kid="x' OR '1'='1"),
    "our kid, attacker's key": lambda app: attacker_signed(app, kid=our_kid(app)),
    "jku header": lambda app: attacker_signed(
        app, kid="attacker", jku="https://attacker.example/jwks.json"
    ),
    "x5u header": lambda app: attacker_signed(
        app, kid=our_kid(app), x5u="https://attacker.example/cert.pem"
    ),
    "embedded jwk header": lambda app: attacker_signed(
        app, kid=attacker_jwk().get("kid", "attacker"), jwk=attacker_jwk()
    ),
    "embedded jwk, our kid": lambda app: attacker_signed(app, kid=our_kid(app), jwk=attacker_jwk()),
    "expired": lambda app: signed_by_us(
        app, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600
    ),
    "nbf in the future": lambda app: signed_by_us(app, nbf=int(time.time()) + 3600),
    "wrong iss": lambda app: signed_by_us(app, iss="https://evil.example"),
    "wrong aud": lambda app: signed_by_us(app, aud="https://other.example/api"),
    "no aud": lambda app: signed_by_us(app, aud=None),
    "no exp": lambda app: signed_by_us(app, exp=None),
    "typ JWT (not at+jwt)": lambda app: signed_by_us(app, typ="JWT"),
    "no typ": lambda app: signed_by_us(app, typ=None),  # type: ignore[arg-type]
    "truncated signature": lambda app: signed_by_us(app)[:-10],
    "garbage": lambda app: "not.a.jwt",
}


def test_every_attack_is_refused_with_401(app: Flask, client: FlaskClient) -> None:
    """Each forged or misused token is refused with 401 and an invalid_token challenge."""
    outcomes = {}
    for name, forge in ATTACKS.items():
        response = client.get(PROTECTED, headers=bearer(forge(app)))
        challenge = response.headers.get("WWW-Authenticate", "")
        message_id = service_error(response)["messageId"]
        outcomes[name] = (response.status_code, message_id, 'error="invalid_token"' in challenge)
    assert outcomes == {name: (401, "UNAUTHORIZED", True) for name in ATTACKS}


def test_a_genuine_token_passes_the_same_check(app: Flask, client: FlaskClient) -> None:
    """Control: the same endpoint accepts our own admin access token."""
    assert client.get(PROTECTED, headers=bearer(access_token(app, "admin"))).status_code == 200
    assert client.get(PROTECTED, headers=bearer(signed_by_us(app))).status_code == 200


def test_customer_token_is_not_an_access_token(app: Flask, client: FlaskClient) -> None:
    """A customer token of ours (typ JWT, customer audience) is refused as an access token."""
    with app.app_context():
        token = services().tokens.issue_customer_token("c1_x", {"scope": "admin"}).token
    assert client.get(PROTECTED, headers=bearer(token)).status_code == 401


def test_inbox_token_is_not_an_access_token(app: Flask, client: FlaskClient) -> None:
    """An inbox token (typ JWT, no iss/aud) is refused as an access token."""
    now = int(time.time())
    with app.app_context():
        token = services().keys.sign(
            {"sub": "user:x", "apiKey": "k", "iat": now, "exp": now + 600, "scope": "admin"},
            "JWT",
        )
    assert client.get(PROTECTED, headers=bearer(token)).status_code == 401


def test_access_token_is_not_a_customer_token(app: Flask) -> None:
    """The other direction: an access token does not verify as a customer token."""
    from identity.errors import InvalidToken

    token = access_token(app, "admin")
    with app.app_context(), pytest.raises(InvalidToken):
        services().tokens.verify_customer_token(token)
