"""POST /introspect (RFC 7662) and POST /revoke (RFC 7009), seen by every instance."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import api_key
from tests.partners_helpers import access_token_for, basic, make_client


def introspect(http: FlaskClient, caller: Any, token: str, **extra: str) -> Any:
    return http.post(
        "/introspect",
        data={"token": token, **extra},
        headers=basic(caller.client_id, caller.client_secret),
    )


def revoke(http: FlaskClient, caller: Any, token: str) -> Any:
    return http.post(
        "/revoke",
        data={"token": token, "client_id": caller.client_id, "client_secret": caller.client_secret},
    )


def test_active_then_revoked_then_inactive(app: Flask, client: FlaskClient) -> None:
    """A fresh token introspects active with its claims; after /revoke it is active: false."""
    partner = make_client(app, "profile:read")
    token = access_token_for(client, partner)
    response = introspect(client, partner, token, token_type_hint="access_token")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["active"] is True
    assert body["client_id"] == body["sub"] == partner.client_id
    assert body["scope"] == "profile:read"
    assert body["token_type"] == "Bearer"
    assert body["exp"] > body["iat"]
    response = client.post(  # a JSON body works as well as a form (docs/limits.md)
        "/revoke",
        json={"token": token},
        headers=basic(partner.client_id, partner.client_secret),
    )
    assert response.status_code == 200 and response.get_json() == {}
    assert introspect(client, partner, token).get_json() == {"active": False}


def test_revoked_token_is_refused_by_getprofile_on_another_instance(
    make_app: Any,
) -> None:
    """Revocation on one instance is seen by a second one sharing the state (denylist by jti)."""
    first, second = make_app(), make_app()
    partner = make_client(first, "profile:read")
    token = access_token_for(first.test_client(), partner)
    key = api_key(first, "profile:read")
    headers = {"Authorization": f"Bearer {token}", "X-API-Key": key, "X-Customer-Id": "c1_none"}
    assert second.test_client().post("/getprofile", headers=headers).status_code == 404
    assert revoke(first.test_client(), partner, token).status_code == 200
    response = second.test_client().post("/getprofile", headers=headers)
    assert response.status_code == 401
    assert introspect(second.test_client(), partner, token).get_json() == {"active": False}


def test_revoking_unknown_tokens_is_200(app: Flask, client: FlaskClient) -> None:
    """RFC 7009 §2.2: invalid or unknown tokens still get 200; introspection says inactive."""
    partner = make_client(app)
    for token in ("not-a-token", "a.b.c", "x" * 9000):
        assert revoke(client, partner, token).status_code == 200
        assert introspect(client, partner, token).get_json() == {"active": False}


def test_another_clients_token_is_neither_shown_nor_revoked(
    app: Flask, client: FlaskClient
) -> None:
    """A client sees only its own tokens; an admin client may introspect any token."""
    owner, other = make_client(app, "profile:read"), make_client(app, "inbox:issue")
    admin = make_client(app, "admin")
    token = access_token_for(client, owner)
    assert introspect(client, other, token).get_json() == {"active": False}
    assert revoke(client, other, token).status_code == 200
    assert introspect(client, owner, token).get_json()["active"] is True
    assert introspect(client, admin, token).get_json()["active"] is True


def test_customer_token_is_not_an_active_access_token(app: Flask, client: FlaskClient) -> None:
    """Only access tokens introspect active; a customer JWT of ours does not."""
    from identity.extensions import services

    partner = make_client(app)
    with app.app_context():
        customer_token = services().tokens.issue_customer_token("c1_x").token
    assert introspect(client, partner, customer_token).get_json() == {"active": False}


@pytest.mark.parametrize("path", ["/introspect", "/revoke"])
def test_missing_token_parameter_is_invalid_request(
    app: Flask, client: FlaskClient, path: str
) -> None:
    """Without ``token`` both endpoints answer invalid_request in the §5.2 shape."""
    partner = make_client(app)
    response = client.post(path, data={}, headers=basic(partner.client_id, partner.client_secret))
    assert response.status_code == 400
    assert response.get_json() == {"error": "invalid_request", "error_description": "Missing token"}


@pytest.mark.parametrize("path", ["/introspect", "/revoke"])
def test_unauthenticated_caller_is_invalid_client(
    app: Flask, client: FlaskClient, path: str
) -> None:
    """The caller must authenticate as a client: 401 invalid_client with a Basic challenge."""
    partner = make_client(app)
    token = access_token_for(client, partner)
    response = client.post(path, data={"token": token}, headers=basic(partner.client_id, "no"))
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith('Basic realm="identity"')
    assert introspect(client, partner, token).get_json()["active"] is True


def test_token_type_hints_are_ignored(app: Flask, client: FlaskClient) -> None:
    """RFC 7662 §2.1 / RFC 7009 §2.1: an unknown hint neither hides nor saves the token."""
    partner = make_client(app)
    token = access_token_for(client, partner)
    response = introspect(client, partner, token, token_type_hint="id_token")
    assert response.get_json()["active"] is True
    response = client.post(
        "/revoke",
        data={"token": token, "token_type_hint": "refresh_token"},
        headers=basic(partner.client_id, partner.client_secret),
    )
    assert response.status_code == 200
    assert introspect(client, partner, token).get_json() == {"active": False}
