"""``private_key_jwt`` (RFC 7523 §2.2): assertions built with PyJWT on /access_token,
/introspect and /revoke, and every way an assertion is refused (401 ``invalid_client``)."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.assertion_helpers import (
    ISSUER,
    TOKEN_URL,
    assertion,
    assertion_form,
    ec_key,
    fresh_rsa_key,
    make_assertion_client,
    rsa_key,
)
from tests.http.test_oauth_token import assert_oauth_error
from tests.partners_helpers import CC, basic, decode, make_client


def post_token(http: FlaskClient, assertion_: str, **extra: str) -> Any:
    return http.post(
        "/access_token", data={"grant_type": CC, **assertion_form(assertion_, **extra)}
    )


@pytest.mark.parametrize("make_key", [rsa_key, ec_key], ids=["RS256", "ES256"])
@pytest.mark.parametrize(
    "aud",
    [TOKEN_URL, f"{ISSUER}/oauth/token", ISSUER, [ISSUER, "https://elsewhere.example"]],
    ids=["token-endpoint", "alias", "issuer", "list"],
)
def test_assertion_gets_an_access_token(
    app: Flask, client: FlaskClient, make_key: Any, aud: Any
) -> None:
    """A signed assertion authenticates; the token is the client's, as with a secret."""
    key = make_key()
    partner = make_assertion_client(app, key)
    response = post_token(client, partner.assertion(aud=aud), client_id=partner.client_id)
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    _, claims = decode(app, response.get_json()["access_token"])
    assert claims["sub"] == claims["client_id"] == partner.client_id
    assert claims["scope"] == "profile:read"


def test_assertion_authenticates_introspect_and_revoke(app: Flask, client: FlaskClient) -> None:
    """The same method works where a client authenticates to manage its tokens."""
    partner = make_assertion_client(app, rsa_key())
    token = post_token(client, partner.assertion()).get_json()["access_token"]
    introspected = client.post(
        "/introspect",
        data={"token": token, **assertion_form(partner.assertion(aud=f"{ISSUER}/introspect"))},
    )
    assert introspected.status_code == 200
    assert introspected.get_json()["active"] is True
    assert introspected.get_json()["client_id"] == partner.client_id
    revoked = client.post("/revoke", data={"token": token, **assertion_form(partner.assertion())})
    assert revoked.status_code == 200
    again = client.post("/introspect", data={"token": token, **assertion_form(partner.assertion())})
    assert again.get_json() == {"active": False}


def test_jti_is_accepted_once(app: Flask, client: FlaskClient) -> None:
    """RFC 7523 §3 item 7: the same assertion a second time is refused."""
    partner = make_assertion_client(app, rsa_key())
    signed = partner.assertion()
    assert post_token(client, signed).status_code == 200
    assert_oauth_error(post_token(client, signed), 401, "invalid_client")
    # the same jti in a new assertion is refused too
    jti = jwt.decode(signed, options={"verify_signature": False})["jti"]
    assert_oauth_error(post_token(client, partner.assertion(jti=jti)), 401, "invalid_client")


def test_replay_on_another_instance_is_refused(make_app: Any) -> None:
    """Two instances over one database (and Redis): an assertion used on one fails on the other."""
    first, second = make_app(), make_app()
    partner = make_assertion_client(first, rsa_key())
    signed = partner.assertion()
    assert post_token(first.test_client(), signed).status_code == 200
    assert_oauth_error(post_token(second.test_client(), signed), 401, "invalid_client")
    fresh = partner.assertion()
    assert post_token(second.test_client(), fresh).status_code == 200
    assert_oauth_error(post_token(first.test_client(), fresh), 401, "invalid_client")


def _hs256(client_id: str, secret: str) -> str:
    now = int(time.time())
    payload = {"iss": client_id, "sub": client_id, "aud": TOKEN_URL, "exp": now + 60, "jti": "h"}
    return jwt.encode(payload, secret, "HS256")


def _none(client_id: str) -> str:
    now = int(time.time())
    payload = {"iss": client_id, "sub": client_id, "aud": TOKEN_URL, "exp": now + 60, "jti": "n"}
    return jwt.encode(payload, None, "none")


REFUSED: dict[str, Any] = {
    "wrong-aud": lambda c, k: assertion(c, k, aud="https://elsewhere.example/token"),
    "iss-not-sub": lambda c, k: assertion(c, k, iss="someone-else"),
    "sub-not-client": lambda c, k: assertion(c, k, sub="someone-else"),
    "expired": lambda c, k: assertion(c, k, lifetime=-120),
    "exp-over-5-minutes": lambda c, k: assertion(c, k, lifetime=600),
    "no-exp": lambda c, k: assertion(c, k, drop=("exp",)),
    "no-jti": lambda c, k: assertion(c, k, drop=("jti",)),
    "no-aud": lambda c, k: assertion(c, k, drop=("aud",)),
    "unknown-kid": lambda c, k: assertion(c, k, headers={"kid": "nope"}),
    "unregistered-key": lambda c, k: assertion(c, fresh_rsa_key(kid=k.kid)),
    "hs256-with-public-key-text": lambda c, k: _hs256(c, "x" * 32),
    "alg-none": lambda c, k: _none(c),
    "not-a-jwt": lambda c, k: "abc.def",
    "crit-header": lambda c, k: assertion(c, k, headers={"crit": ["exp"]}),
    "exp-as-text": lambda c, k: assertion(c, k, exp=str(int(time.time()) + 60)),
    "exp-true": lambda c, k: assertion(c, k, exp=True),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_bad_assertions_are_invalid_client(app: Flask, client: FlaskClient, case: str) -> None:
    """Every failure of an assertion is 401 invalid_client (RFC 6749 §5.2)."""
    key = rsa_key()
    partner = make_assertion_client(app, key)
    response = post_token(client, REFUSED[case](partner.client_id, key))
    assert_oauth_error(response, 401, "invalid_client")
    assert "WWW-Authenticate" in response.headers


def test_client_id_must_match_the_assertion(app: Flask, client: FlaskClient) -> None:
    partner = make_assertion_client(app, rsa_key())
    other = make_assertion_client(app, rsa_key())
    response = post_token(client, partner.assertion(), client_id=other.client_id)
    assert_oauth_error(response, 401, "invalid_client")


def test_wrong_assertion_type_is_invalid_client(app: Flask, client: FlaskClient) -> None:
    partner = make_assertion_client(app, rsa_key())
    data = {
        "grant_type": CC,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
        "client_assertion": partner.assertion(),
    }
    assert_oauth_error(client.post("/access_token", data=data), 401, "invalid_client")


def test_secret_client_cannot_use_an_assertion(app: Flask, client: FlaskClient) -> None:
    """A client registered with a secret has no keys: an assertion naming it is refused."""
    secret_client = make_client(app)
    key = rsa_key()
    response = post_token(client, assertion(secret_client.client_id, key))
    assert_oauth_error(response, 401, "invalid_client")
    # an HS256 assertion keyed with the client's own secret is refused as well
    response = post_token(client, _hs256(secret_client.client_id, secret_client.client_secret))
    assert_oauth_error(response, 401, "invalid_client")


def test_assertion_client_has_no_secret(app: Flask, client: FlaskClient) -> None:
    """No secret is issued, so Basic or post with anything is refused."""
    partner = make_assertion_client(app, rsa_key())
    response = client.post(
        "/access_token", data={"grant_type": CC}, headers=basic(partner.client_id, "")
    )
    assert response.status_code == 401
    response = client.post(
        "/access_token",
        data={"grant_type": CC, "client_id": partner.client_id, "client_secret": "x" * 43},
    )
    assert_oauth_error(response, 401, "invalid_client")


def test_assertion_and_a_secret_together_is_invalid_request(
    app: Flask, client: FlaskClient
) -> None:
    """RFC 6749 §2.3: one authentication method per request."""
    partner = make_assertion_client(app, rsa_key())
    secret_client = make_client(app)
    response = client.post(
        "/access_token",
        data={"grant_type": CC, **assertion_form(partner.assertion())},
        headers=basic(secret_client.client_id, secret_client.client_secret),
    )
    assert_oauth_error(response, 400, "invalid_request")


def test_disabled_assertion_client_is_refused(app: Flask, client: FlaskClient) -> None:
    partner = make_assertion_client(app, rsa_key())
    with app.app_context():
        from identity.extensions import services

        services().clients.disable(partner.client_id)
    assert_oauth_error(post_token(client, partner.assertion()), 401, "invalid_client")


def test_key_rollover_in_a_registered_set(app: Flask, client: FlaskClient) -> None:
    """A set of several keys: each signs by its kid; ES256 and RS256 side by side."""
    old, new = rsa_key(), ec_key()
    partner = make_assertion_client(app, old, new)
    assert post_token(client, assertion(partner.client_id, old)).status_code == 200
    assert post_token(client, assertion(partner.client_id, new)).status_code == 200
    # a kid naming the EC key on an RS256 assertion is refused (algorithm bound to the key)
    mismatched = assertion(partner.client_id, old, headers={"kid": new.kid})
    assert_oauth_error(post_token(client, mismatched), 401, "invalid_client")
