"""POST /access_token and /oauth/token: RFC 6749 §4.4 client credentials, RFC 9068 tokens,
and every RFC 6749 §5.2 error in its exact shape."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from identity.extensions import services
from tests.partners_helpers import CC, basic, decode, insert_client, make_client, token

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def assert_oauth_error(response: Any, status: int, error: str) -> None:
    assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == error
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"


@pytest.mark.parametrize("path", ["/access_token", "/oauth/token"])
def test_basic_authentication_issues_an_rfc9068_token(
    app: Flask, client: FlaskClient, path: str
) -> None:
    """Basic auth gets the §4 body, no-store headers and an at+jwt with every RFC 9068 claim."""
    partner = make_client(app, "profile:read inbox:issue", lifetime=600)
    response = client.post(
        path,
        data={"grant_type": CC, "scope": "profile:read"},
        headers=basic(partner.client_id, partner.client_secret),
    )
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 600
    assert body["scope"] == "profile:read"
    for name, value in NO_STORE.items():
        assert response.headers[name] == value
    header, claims = decode(app, body["access_token"])
    assert header["typ"] == "at+jwt" and header["alg"] == "RS256" and header["kid"]
    assert claims["sub"] == claims["client_id"] == partner.client_id
    assert claims["iss"] == "http://identity.test"
    assert claims["aud"] == "http://identity.test/api"
    assert claims["scope"] == "profile:read"
    assert claims["exp"] - claims["iat"] == 600
    assert isinstance(claims["jti"], str) and len(claims["jti"]) >= 16


def test_post_authentication_with_a_form_body(app: Flask, client: FlaskClient) -> None:
    """client_secret_post in a form body works; no scope means all the client's scopes."""
    partner = make_client(app, "profile:read inbox:issue")
    response = client.post(
        "/access_token",
        data={
            "grant_type": CC,
            "client_id": partner.client_id,
            "client_secret": partner.client_secret,
        },
    )
    assert response.status_code == 200
    assert response.get_json()["scope"] == "profile:read inbox:issue"
    assert decode(app, response.get_json()["access_token"])[1]["scope"] == (
        "profile:read inbox:issue"
    )


def test_post_authentication_with_a_json_body(app: Flask, client: FlaskClient) -> None:
    """The same parameters as a JSON object are accepted (docs/limits.md)."""
    partner = make_client(app, "profile:read")
    response = client.post(
        "/oauth/token",
        json={
            "grant_type": CC,
            "scope": "profile:read",
            "client_id": partner.client_id,
            "client_secret": partner.client_secret,
        },
    )
    assert response.status_code == 200
    assert decode(app, response.get_json()["access_token"])[1]["sub"] == partner.client_id


def test_basic_credentials_are_form_urlencoded(app: Flask, client: FlaskClient) -> None:
    """RFC 6749 §2.3.1: an id and secret with ':', '+', space and non-ASCII are decoded."""
    client_id, secret = "partner:one+é", "s3cr:t+ /%é=" + "x" * 40
    insert_client(app, client_id, secret, "profile:read")
    response = client.post(
        "/access_token", data={"grant_type": CC}, headers=basic(client_id, secret)
    )
    assert response.status_code == 200, response.get_json()
    assert decode(app, response.get_json()["access_token"])[1]["client_id"] == client_id
    # The same characters sent raw (not urlencoded) do not authenticate.
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = client.post(
        "/access_token", data={"grant_type": CC}, headers={"Authorization": f"Basic {raw}"}
    )
    assert_oauth_error(response, 401, "invalid_client")


def test_requested_scope_subset_is_granted(app: Flask, client: FlaskClient) -> None:
    """Any subset of the client's scopes is granted as asked; none or empty means all."""
    a, b, c = "profile:read", "inbox:issue", "upstream:read"
    partner = make_client(app, f"{a} {b} {c}")
    table = {a: a, f"{b} {a}": f"{b} {a}", f"{a} {a}": a, "": f"{a} {b} {c}", None: f"{a} {b} {c}"}
    granted = {asked: token(client, partner, asked).get_json().get("scope") for asked in table}
    assert granted == table


def test_scope_outside_the_clients_is_invalid_scope(app: Flask, client: FlaskClient) -> None:
    """A scope the client does not hold (scopes are case-sensitive) is invalid_scope."""
    partner = make_client(app, "profile:read inbox:issue upstream:read")
    for requested in ("admin", "profile:read admin", "PROFILE:READ", "profile:read\\b"):
        assert_oauth_error(token(client, partner, requested), 400, "invalid_scope")


# --- RFC 6749 §5.2 errors --------------------------------------------------------------------
def test_missing_grant_type_is_invalid_request(app: Flask, client: FlaskClient) -> None:
    """No grant_type at all is invalid_request (not unsupported_grant_type)."""
    partner = make_client(app)
    response = client.post(
        "/access_token", data={}, headers=basic(partner.client_id, partner.client_secret)
    )
    assert_oauth_error(response, 400, "invalid_request")


def test_duplicated_parameter_is_invalid_request(app: Flask, client: FlaskClient) -> None:
    """RFC 6749 §3.2: a parameter sent twice is invalid_request."""
    partner = make_client(app, "admin")
    for body in (
        "grant_type=client_credentials&grant_type=client_credentials",
        "grant_type=client_credentials&scope=admin&scope=admin",
    ):
        response = client.post(
            "/access_token",
            data=body,
            content_type="application/x-www-form-urlencoded",
            headers=basic(partner.client_id, partner.client_secret),
        )
        assert_oauth_error(response, 400, "invalid_request")


def test_duplicated_json_member_is_invalid_request(app: Flask, client: FlaskClient) -> None:
    """A JSON object with the same member twice is refused like a repeated form field."""
    partner = make_client(app, "admin")
    body = '{"grant_type": "client_credentials", "grant_type": "client_credentials"}'
    response = client.post(
        "/access_token",
        data=body,
        content_type="application/json",
        headers=basic(partner.client_id, partner.client_secret),
    )
    assert_oauth_error(response, 400, "invalid_request")


def test_two_authentication_methods_is_invalid_request(app: Flask, client: FlaskClient) -> None:
    """Basic and client_secret in the body at once: invalid_request (RFC 6749 §2.3)."""
    partner = make_client(app)
    response = client.post(
        "/access_token",
        data={"grant_type": CC, "client_id": partner.client_id, "client_secret": "x"},
        headers=basic(partner.client_id, partner.client_secret),
    )
    assert_oauth_error(response, 400, "invalid_request")


MALFORMED = [
    ("{not json", "application/json"),
    ("[1, 2]", "application/json"),
    ('{"grant_type": ["client_credentials"]}', "application/json"),
    ("grant_type=client_credentials", "text/plain"),
    (b"grant_type=client_credentials&scope=\xff", "application/x-www-form-urlencoded"),
]


def test_malformed_bodies_are_invalid_request(app: Flask, client: FlaskClient) -> None:
    """Malformed JSON or form, non-objects, non-string values, other media: invalid_request."""
    partner = make_client(app)
    for data, content_type in MALFORMED:
        response = client.post(
            "/access_token",
            data=data,
            content_type=content_type,
            headers=basic(partner.client_id, partner.client_secret),
        )
        assert_oauth_error(response, 400, "invalid_request")


def test_body_over_64_kib_is_413_invalid_request(app: Flask, client: FlaskClient) -> None:
    """A body over 64 KiB gets 413 in the RFC 6749 §5.2 shape."""
    response = client.post(
        "/access_token",
        data="grant_type=client_credentials&pad=" + "x" * 70_000,
        content_type="application/x-www-form-urlencoded",
    )
    assert_oauth_error(response, 413, "invalid_request")


def test_get_is_refused_with_invalid_request(client: FlaskClient) -> None:
    """The token endpoint is POST only (RFC 6749 §3.2)."""
    response = client.get("/access_token?grant_type=client_credentials")
    assert_oauth_error(response, 405, "invalid_request")


def test_wrong_secret_with_basic_is_401_with_basic_challenge(
    app: Flask, client: FlaskClient
) -> None:
    """invalid_client after Basic: 401 and WWW-Authenticate: Basic realm=... (RFC 6749 §5.2)."""
    partner = make_client(app)
    response = client.post(
        "/access_token", data={"grant_type": CC}, headers=basic(partner.client_id, "wrong")
    )
    assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"] == (
        'Basic realm="identity", error="invalid_client"'
    )


BAD_CREDENTIALS = [
    ({}, {}),  # none at all
    ({}, {"client_id": "unknown", "client_secret": "nope"}),
    ({}, {"client_id": "tab\tid", "client_secret": "s"}),
    ({}, {"client_id": "x" * 65, "client_secret": "s"}),
    ({"Authorization": "Basic !!!not-base64"}, {}),
    ({"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()}, {}),
    ({"Authorization": "Basic " + base64.b64encode(b"\xff:\xfe").decode()}, {}),
    ({"Authorization": "Bearer abc"}, {}),
]


def test_missing_unknown_or_malformed_credentials_are_invalid_client(
    client: FlaskClient,
) -> None:
    """Every failed client authentication (control characters and overlong ids included,
    which never reach the database) is 401 invalid_client with a Basic challenge."""
    for headers, data in BAD_CREDENTIALS:
        response = client.post("/access_token", data={"grant_type": CC, **data}, headers=headers)
        assert_oauth_error(response, 401, "invalid_client")
        assert response.headers["WWW-Authenticate"].startswith('Basic realm="identity"')


def test_nul_in_a_parameter_is_invalid_request(client: FlaskClient) -> None:
    """U+0000 breaks the body-reading rules (identity.core.bodies): 400, before any lookup."""
    data = {"grant_type": CC, "client_id": "nul\x00id", "client_secret": "s"}
    assert_oauth_error(client.post("/access_token", data=data), 400, "invalid_request")


def test_unsupported_grant_type(app: Flask, client: FlaskClient) -> None:
    """A grant type other than client_credentials is unsupported_grant_type, not echoed back."""
    partner = make_client(app)
    response = client.post(
        "/access_token",
        data={"grant_type": 'password"<x>', "username": "u", "password": "p"},
        headers=basic(partner.client_id, partner.client_secret),
    )
    assert_oauth_error(response, 400, "unsupported_grant_type")
    assert "<x>" not in response.get_data(as_text=True)


def test_client_without_scopes_is_unauthorized_client(app: Flask, client: FlaskClient) -> None:
    """A scope-less client (introspection/revocation only) may not use client_credentials."""
    partner = make_client(app, "")
    assert_oauth_error(token(client, partner), 400, "unauthorized_client")


def test_disabled_client_and_rotated_secret_are_refused_at_once(
    app: Flask, client: FlaskClient
) -> None:
    """Rotating the secret refuses the old one; disabling refuses the client, both at once."""
    partner = make_client(app)
    assert token(client, partner).status_code == 200  # now cached in-process
    with app.app_context():
        rotated = services().clients.rotate_secret(partner.client_id)
    assert_oauth_error(token(client, partner), 401, "invalid_client")
    assert token(client, rotated).status_code == 200
    with app.app_context():
        services().clients.disable(partner.client_id)
    assert_oauth_error(token(client, rotated), 401, "invalid_client")


def test_no_database_write_per_token(app: Flask, client: FlaskClient) -> None:
    """Issuing tokens stores nothing: the revocation and key-value tables stay empty."""
    from sqlalchemy import func, select

    from identity.models import KeyValue, RevokedToken
    from identity.models.base import db

    partner = make_client(app)
    for _ in range(3):
        assert token(client, partner).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RevokedToken)) == 0
        assert db.session.scalar(select(func.count()).select_from(KeyValue)) == 0


def test_openapi_documents_the_token_endpoints(client: FlaskClient) -> None:
    """/openapi.json lists both token paths with form and JSON request bodies."""
    spec = json.loads(client.get("/openapi.json").get_data())
    for path in ("/access_token", "/oauth/token", "/introspect", "/revoke"):
        content = spec["paths"][path]["post"]["requestBody"]["content"]
        assert {"application/x-www-form-urlencoded", "application/json"} <= set(content)


@pytest.mark.parametrize("settings_overrides", [{"reuse_access_tokens": True}])
def test_reuse_option_hands_back_the_fresh_token(
    app: Flask, client: FlaskClient, settings_overrides: dict[str, Any]
) -> None:
    """With reuse on, the same scopes get the same token; other scopes, rotation or
    revocation mint a new one."""
    partner = make_client(app, "admin inbox:issue")
    first = token(client, partner, "admin").get_json()["access_token"]
    assert token(client, partner, "admin").get_json()["access_token"] == first
    assert token(client, partner, "admin inbox:issue").get_json()["access_token"] != first
    with app.app_context():
        tokens = services().tokens
        tokens.revoke(tokens.verify_access_token(first))
    second = token(client, partner, "admin").get_json()["access_token"]
    assert second != first
    with app.app_context():
        rotated = services().clients.rotate_secret(partner.client_id)
    assert token(client, rotated, "admin").get_json()["access_token"] != second


def test_reuse_is_off_by_default(app: Flask, client: FlaskClient) -> None:
    """By default every request mints a fresh token (new jti)."""
    partner = make_client(app, "admin")
    tokens = {token(client, partner).get_json()["access_token"] for _ in range(3)}
    assert len(tokens) == 3


def test_no_token_reaches_the_log_even_at_debug(
    make_app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Authlib logs "Issue token %r" at DEBUG; the Flask path (a JSON body) goes through it."""
    app = make_app(log_level="DEBUG")
    client = make_client(app)
    with caplog.at_level("DEBUG"):
        response = app.test_client().post(
            "/access_token",
            json={"grant_type": CC},
            headers=basic(client.client_id, client.client_secret),
        )
    assert response.status_code == 200
    issued = response.get_json()["access_token"]
    assert caplog.records  # DEBUG logging was on
    assert issued not in caplog.text and issued.split(".")[2] not in caplog.text
