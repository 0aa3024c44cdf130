"""Inbox secure-mode tokens (docs/inbox.md), and that token kinds never stand in for each other."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient

from identity.errors import InvalidToken
from identity.extensions import services
from tests.conftest import access_token, api_key, bearer, service_error
from tests.customers_helpers import claims_of, create_customer, customer_token


@pytest.fixture
def alice(app: Flask) -> dict[str, Any]:
    return create_customer(app, "alice")


def jwks_key(client: FlaskClient, token: str) -> Any:
    """The public key the JWKS publishes for this token's kid."""
    kid = jwt.get_unverified_header(token)["kid"]
    keys = {k["kid"]: k for k in client.get("/.well-known/jwks.json").get_json()["keys"]}
    return jwt.PyJWK.from_json(json.dumps(keys[kid])).key


def assert_inbox_token(client: FlaskClient, token: str, identifier: str) -> dict[str, Any]:
    """Exactly the four claims and the three header fields; verifies against the JWKS."""
    header = jwt.get_unverified_header(token)
    assert set(header) == {"alg", "typ", "kid"}
    assert header["alg"] == "RS256" and header["typ"] == "JWT"
    claims = jwt.decode(token, jwks_key(client, token), algorithms=["RS256"])
    assert set(claims) == {"sub", "apiKey", "iat", "exp"}
    assert claims["sub"] == f"user:{identifier}"
    assert claims["apiKey"] == "test-inbox-api-key"
    assert claims["exp"] - claims["iat"] == 3600
    return claims


def test_inbox_token_for_a_customer(client: FlaskClient, alice: dict[str, Any]) -> None:
    """POST /inbox/token with a customer token: identifier = the customer ID."""
    response = client.post("/inbox/token", headers=bearer(customer_token(client)))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["expires_in"] == 3600
    assert body["app"] == "legacy" and body["vendor"] == "engagespot"  # IDENTITY_INBOX_API_KEY
    assert_inbox_token(client, body["token"], alice["customer_id"])


def test_inbox_token_for_an_api_key_caller(app: Flask, client: FlaskClient) -> None:
    """POST /v1/inbox/tokens with an inbox:issue API key, App scheme or X-API-Key."""
    key = api_key(app, "inbox:issue")
    for headers in ({"Authorization": f"App {key}"}, {"X-API-Key": key}):
        response = client.post(
            "/v1/inbox/tokens", json={"identifier": "user 42 é"}, headers=headers
        )
        assert response.status_code == 200
        assert response.get_json()["expires_in"] == 3600
        assert_inbox_token(client, response.get_json()["token"], "user 42 é")


def test_inbox_lifetime_comes_from_config(make_app: Any) -> None:
    """IDENTITY_INBOX_TOKEN_TTL sets exp - iat and expires_in."""
    app = make_app(inbox_token_ttl=600)
    client = app.test_client()
    response = client.post(
        "/v1/inbox/tokens",
        json={"identifier": "u"},
        headers={"X-API-Key": api_key(app, "inbox:issue")},
    )
    claims = claims_of(response.get_json()["token"])
    assert response.get_json()["expires_in"] == 600 and claims["exp"] - claims["iat"] == 600


@pytest.mark.parametrize(
    "body",
    [{}, {"identifier": ""}, {"identifier": "x" * 257}, {"identifier": "a\nb"}, {"identifier": 7}],
)
def test_identifier_must_be_1_to_256_printable(app: Flask, client: FlaskClient, body: Any) -> None:
    """Empty, too long, control characters or not a string: 400 naming identifier."""
    key = api_key(app, "inbox:issue")
    response = client.post("/v1/inbox/tokens", json=body, headers={"X-API-Key": key})
    assert response.status_code == 400
    assert "identifier" in service_error(response)["validationErrors"]


def test_identifier_of_256_characters_is_accepted(app: Flask, client: FlaskClient) -> None:
    """The upper bound is inclusive."""
    key = api_key(app, "inbox:issue")
    response = client.post(
        "/v1/inbox/tokens", json={"identifier": "x" * 256}, headers={"X-API-Key": key}
    )
    assert response.status_code == 200


def test_api_key_scope_and_presence(app: Flask, client: FlaskClient) -> None:
    """No key 401 (App challenge), wrong scope 403, revoked key 401."""
    body = {"identifier": "u"}
    missing = client.post("/v1/inbox/tokens", json=body)
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith("App")
    wrong = client.post(
        "/v1/inbox/tokens", json=body, headers={"X-API-Key": api_key(app, "profile:read")}
    )
    assert wrong.status_code == 403
    bogus = client.post("/v1/inbox/tokens", json=body, headers={"X-API-Key": "idk_nope_nope"})
    assert bogus.status_code == 401


# --- token kinds are distinct (RFC 8725 §3.11-12) ---------------------------------------------
def test_access_and_inbox_tokens_are_not_customer_tokens(
    app: Flask, client: FlaskClient, alice: dict[str, Any]
) -> None:
    """/inbox/token and refresh refuse an access token (typ at+jwt) and an inbox token (no aud)."""
    inbox = client.post("/inbox/token", headers=bearer(customer_token(client))).get_json()["token"]
    for token in (access_token(app, "admin"), inbox):
        for path in ("/inbox/token", "/customer_authenticate/refresh", "/customer_logout"):
            assert client.post(path, headers=bearer(token)).status_code == 401, path


def test_customer_and_inbox_tokens_are_not_access_tokens(
    app: Flask, client: FlaskClient, alice: dict[str, Any]
) -> None:
    """An admin endpoint refuses customer and inbox tokens; an access token works there."""
    customer = customer_token(client)
    inbox = client.post("/inbox/token", headers=bearer(customer)).get_json()["token"]
    for token in (customer, inbox):
        assert client.get("/admin/users", headers=bearer(token)).status_code == 401
    assert client.get("/admin/users", headers=bearer(access_token(app, "admin"))).status_code == 200


def test_customer_and_access_tokens_are_not_inbox_tokens(
    app: Flask, client: FlaskClient, alice: dict[str, Any]
) -> None:
    """The inbox check (and plain PyJWT without an audience) refuses customer and access tokens."""
    customer = customer_token(client)
    inbox = client.post("/inbox/token", headers=bearer(customer)).get_json()["token"]
    with app.app_context():
        tokens = services().inbox
        assert tokens.verify_own_key(inbox)["sub"] == f"user:{alice['customer_id']}"
        for token in (customer, access_token(app, "admin")):
            with pytest.raises(InvalidToken):
                tokens.verify_own_key(token)
            with pytest.raises(jwt.InvalidAudienceError):
                jwt.decode(token, jwks_key(client, token), algorithms=["RS256"])
