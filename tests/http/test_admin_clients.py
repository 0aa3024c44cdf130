"""/admin/clients and `identity clients ...`: create, list, rotate-secret, disable."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import access_token, bearer, service_error
from tests.partners_helpers import basic, decode

CC = {"grant_type": "client_credentials"}


@pytest.fixture
def admin(app: Flask) -> dict[str, str]:
    return bearer(access_token(app, "admin"))


def get_token(http: FlaskClient, client_id: str, secret: str) -> Any:
    return http.post("/access_token", data=CC, headers=basic(client_id, secret))


def test_create_then_get_a_token(client: FlaskClient, admin: dict[str, str]) -> None:
    """POST /admin/clients shows the secret once (no-store); the client then gets a token."""
    response = client.post(
        "/admin/clients", headers=admin, json={"name": "acme", "scope": "profile:read"}
    )
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    created = response.get_json()
    assert created["scope"] == "profile:read"
    assert len(created["client_secret"]) >= 43  # 32 random bytes, base64url
    issued = get_token(client, created["client_id"], created["client_secret"])
    assert issued.status_code == 200
    assert issued.get_json()["scope"] == "profile:read"


def test_list_never_shows_a_secret(client: FlaskClient, admin: dict[str, str]) -> None:
    """GET /admin/clients lists clients with their settings and no secret or hash."""
    created = client.post(
        "/admin/clients",
        headers=admin,
        json={"name": "acme", "scope": "profile:read inbox:issue", "lifetime": 120},
    ).get_json()
    response = client.get("/admin/clients", headers=admin)
    assert response.status_code == 200
    (row,) = response.get_json()["clients"]
    assert row["client_id"] == created["client_id"]
    assert (
        row["scope"] == "profile:read inbox:issue"
        and row["lifetime"] == 120
        and row["enabled"] is True
    )
    text = response.get_data(as_text=True)
    assert created["client_secret"] not in text and "secret_hash" not in text


def test_rotate_secret_and_disable(app: Flask, client: FlaskClient, admin: dict[str, str]) -> None:
    """Rotation refuses the old secret at once; disabling refuses the client at once."""
    created = client.post(
        "/admin/clients", headers=admin, json={"name": "acme", "scope": "profile:read"}
    ).get_json()
    cid = created["client_id"]
    assert get_token(client, cid, created["client_secret"]).status_code == 200
    rotated = client.post(f"/admin/clients/{cid}/rotate-secret", headers=admin)
    assert rotated.status_code == 200 and rotated.headers["Cache-Control"] == "no-store"
    new_secret = rotated.get_json()["client_secret"]
    assert get_token(client, cid, created["client_secret"]).status_code == 401
    assert get_token(client, cid, new_secret).status_code == 200
    disabled = client.post(f"/admin/clients/{cid}/disable", headers=admin)
    assert disabled.status_code == 200 and disabled.get_json()["enabled"] is False
    assert get_token(client, cid, new_secret).status_code == 401


def test_disable_is_seen_by_another_instance(make_app: Any) -> None:
    """With no client cache, a second instance refuses a client disabled on the first."""
    first, second = make_app(client_cache_seconds=0), make_app(client_cache_seconds=0)
    admin = bearer(access_token(first, "admin"))
    created = (
        first.test_client()
        .post("/admin/clients", headers=admin, json={"name": "acme", "scope": "profile:read"})
        .get_json()
    )
    cid, secret = created["client_id"], created["client_secret"]
    assert get_token(second.test_client(), cid, secret).status_code == 200
    first.test_client().post(f"/admin/clients/{cid}/disable", headers=admin)
    assert get_token(second.test_client(), cid, secret).status_code == 401


def test_invalid_create_is_400(client: FlaskClient, admin: dict[str, str]) -> None:
    """Missing name, a too-short lifetime or an illegal scope character is 400."""
    for body in ({}, {"name": ""}, {"name": "x", "lifetime": 5}, {"name": "x", "scope": 'a"b'}):
        response = client.post("/admin/clients", headers=admin, json=body)
        assert response.status_code == 400, body
        assert service_error(response)["messageId"] == "BAD_REQUEST"


def test_unknown_client_is_404(client: FlaskClient, admin: dict[str, str]) -> None:
    """Rotating or disabling an unknown client is 404."""
    for action in ("rotate-secret", "disable"):
        response = client.post(f"/admin/clients/nope/{action}", headers=admin)
        assert response.status_code == 404


def test_admin_api_needs_an_admin_access_token(app: Flask, client: FlaskClient) -> None:
    """No token is 401, a token without scope admin is 403, an API key alone is 401."""
    from tests.conftest import api_key

    cases = [
        ({}, 401),
        (bearer(access_token(app, "profile:read")), 403),
        ({"X-API-Key": api_key(app, "admin")}, 401),
    ]
    for headers, status in cases:
        for method, path in (("get", "/admin/clients"), ("post", "/admin/keys/rotate")):
            response = getattr(client, method)(path, headers=headers, json={"name": "x"})
            assert response.status_code == status, (headers, path)


def test_admin_bootstrap_client_from_the_cli(app: Flask, runner: Any) -> None:
    """`identity clients create --scope admin --json` gives a client that can use /admin."""
    result = runner.invoke(
        args=["identity", "clients", "create", "--name", "admin", "--scope", "admin", "--json"]
    )
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert set(created) == {"client_id", "client_secret", "scope"}
    http = app.test_client()
    issued = get_token(http, created["client_id"], created["client_secret"]).get_json()
    assert http.get("/admin/clients", headers=bearer(issued["access_token"])).status_code == 200


def test_cli_list_rotate_disable(app: Flask, runner: Any) -> None:
    """`clients list|rotate-secret|disable --json` do what the API does."""
    created = json.loads(
        runner.invoke(
            args=[
                "identity",
                "clients",
                "create",
                "--name",
                "p",
                "--scope",
                "profile:read",
                "--json",
            ]
        ).output
    )
    cid = created["client_id"]
    listed = json.loads(runner.invoke(args=["identity", "clients", "list", "--json"]).output)
    assert [c["client_id"] for c in listed["clients"]] == [cid]
    assert created["client_secret"] not in json.dumps(listed)
    rotated = json.loads(
        runner.invoke(args=["identity", "clients", "rotate-secret", cid, "--json"]).output
    )
    http = app.test_client()
    assert get_token(http, cid, created["client_secret"]).status_code == 401
    assert get_token(http, cid, rotated["client_secret"]).status_code == 200
    result = runner.invoke(args=["identity", "clients", "disable", cid, "--json"])
    assert json.loads(result.output) == {"client_id": cid, "enabled": False}
    assert get_token(http, cid, rotated["client_secret"]).status_code == 401


def test_token_lifetime_follows_the_client(app: Flask, client: FlaskClient) -> None:
    """A client's lifetime sets expires_in and exp - iat."""
    admin = bearer(access_token(app, "admin"))
    created = client.post(
        "/admin/clients",
        headers=admin,
        json={"name": "short", "scope": "profile:read", "lifetime": 300},
    ).get_json()
    body = get_token(client, created["client_id"], created["client_secret"]).get_json()
    assert body["expires_in"] == 300
    claims = decode(app, body["access_token"])[1]
    assert claims["exp"] - claims["iat"] == 300


@pytest.mark.parametrize("client_id", ["x" * 65, "bad\x00id", ""])
def test_an_invalid_client_id_is_refused_and_never_cached(make_app: Any, client_id: str) -> None:
    """Only ids a client could have reach the cache, so junk cannot fill it."""
    from identity.cache import MISSING
    from identity.extensions import services

    app = make_app(client_cache_seconds=60)
    with app.app_context():
        clients = services().clients
        assert clients.get(client_id) is None
        assert clients._cache.get(client_id) is MISSING
        assert clients.get("unknown-but-valid") is None
        assert clients._cache.get("unknown-but-valid") is None  # a cached "no such client"
