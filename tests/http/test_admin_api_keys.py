"""/admin/api-keys and `identity api-keys ...`; plus /admin/keys (the signing key ring)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from identity.crypto.hashing import hash_secret
from identity.extensions import services
from identity.models import ApiKey
from identity.models.base import db
from tests.conftest import access_token, bearer

KEY_PATH = "/admin/api-keys"


@pytest.fixture
def admin(app: Flask) -> dict[str, str]:
    return bearer(access_token(app, "admin"))


def authenticates(app: Flask, key: str) -> bool:
    """Whether a protected endpoint accepts this key (via its principal)."""
    from identity.errors import Unauthorized
    from identity.extensions import services

    with app.app_context():
        try:
            services().api_keys.authenticate(key)
        except Unauthorized:
            return False
        return True


def test_create_shows_the_key_once_and_stores_a_hash(
    app: Flask, client: FlaskClient, admin: dict[str, str]
) -> None:
    """The key has a recognisable prefix and 256 bits; only its HMAC and lookup are stored."""
    response = client.post(
        KEY_PATH, headers=admin, json={"name": "inbox", "scope": "inbox:issue profile:read"}
    )
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    created = response.get_json()
    key = created["key"]
    assert key.startswith("idk_") and len(key.split("_", 2)[2]) >= 43
    assert created["scope"] == "inbox:issue profile:read" and created["expires_at"] is None
    with app.app_context():
        row = db.session.get(ApiKey, created["id"])
        assert row.key_hash == hash_secret(key, services().settings.hash_pepper)
        assert key not in (row.lookup, row.key_hash) and key.startswith(f"idk_{row.lookup}_")
    assert authenticates(app, key)


def test_list_and_revoke(app: Flask, client: FlaskClient, admin: dict[str, str]) -> None:
    """The list shows metadata and last use, never the key; a revoked key is refused."""
    created = client.post(
        KEY_PATH, headers=admin, json={"name": "k", "scope": "profile:read"}
    ).get_json()
    assert authenticates(app, created["key"])
    listed = client.get(KEY_PATH, headers=admin)
    (row,) = listed.get_json()["api_keys"]
    assert row["id"] == created["id"] and row["revoked_at"] is None
    assert row["last_used_at"] is not None
    assert created["key"] not in listed.get_data(as_text=True)
    response = client.post(f"{KEY_PATH}/{created['id']}/revoke", headers=admin)
    assert response.status_code == 200 and response.get_json()["revoked_at"]
    assert not authenticates(app, created["key"])
    assert client.post(f"{KEY_PATH}/ak_nope/revoke", headers=admin).status_code == 404


def test_expiring_key(app: Flask, client: FlaskClient, admin: dict[str, str]) -> None:
    """``expires_in`` sets expires_at; past it the key is refused."""
    from datetime import UTC, datetime, timedelta

    created = client.post(
        KEY_PATH, headers=admin, json={"name": "k", "scope": "profile:read", "expires_in": 60}
    ).get_json()
    assert created["expires_at"]
    assert authenticates(app, created["key"])
    with app.app_context():
        row = db.session.get(ApiKey, created["id"])
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
    assert not authenticates(app, created["key"])


def test_invalid_create_is_400(client: FlaskClient, admin: dict[str, str]) -> None:
    """Missing name or a non-positive expiry is 400."""
    for body in ({}, {"name": ""}, {"name": "k", "expires_in": 0}):
        assert client.post(KEY_PATH, headers=admin, json=body).status_code == 400, body


def test_cli_create_list_revoke(app: Flask, runner: Any) -> None:
    """`identity api-keys create|list|revoke --json`."""
    result = runner.invoke(
        args=[
            "identity",
            "api-keys",
            "create",
            "--name",
            "n",
            "--scope",
            "profile:read inbox:issue",
            "--json",
        ]
    )
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert set(created) == {"id", "key", "scope", "expires_at"}
    assert authenticates(app, created["key"])
    listed = json.loads(runner.invoke(args=["identity", "api-keys", "list", "--json"]).output)
    assert [k["id"] for k in listed["api_keys"]] == [created["id"]]
    assert created["key"] not in json.dumps(listed)
    result = runner.invoke(args=["identity", "api-keys", "revoke", created["id"], "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["revoked_at"]
    assert not authenticates(app, created["key"])


def test_cli_expiring_key(runner: Any) -> None:
    """`--expires-in` gives an expires_at in the JSON."""
    result = runner.invoke(
        args=["identity", "api-keys", "create", "--name", "n", "--expires-in", "60", "--json"]
    )
    assert json.loads(result.output)["expires_at"]


def test_key_ring_rotate_promote_retire(client: FlaskClient, admin: dict[str, str]) -> None:
    """/admin/keys lists states; rotate pre-publishes, promote activates, retire answers."""
    (active,) = client.get("/admin/keys", headers=admin).get_json()["keys"]
    assert active["state"] == "active"
    rotated = client.post("/admin/keys/rotate", headers=admin, json={"promote_after": 3600})
    assert rotated.status_code == 201
    states = {
        k["kid"]: k["state"] for k in client.get("/admin/keys", headers=admin).get_json()["keys"]
    }
    assert states == {active["kid"]: "active", rotated.get_json()["kid"]: "next"}
    assert client.post("/admin/keys/rotate", headers=admin, json={}).status_code == 409
    promoted = client.post("/admin/keys/promote", headers=admin)
    assert promoted.get_json() == rotated.get_json()
    states = {
        k["kid"]: k["state"] for k in client.get("/admin/keys", headers=admin).get_json()["keys"]
    }
    assert states[active["kid"]] == "retired" and states[promoted.get_json()["kid"]] == "active"
    assert client.post("/admin/keys/retire", headers=admin).get_json() == {"removed": []}
    assert client.post("/admin/keys/promote", headers=admin).status_code == 404


def test_malformed_keys_are_refused_before_the_database(app: Flask) -> None:
    """A lookup prefix that is not hex (e.g. NUL bytes) is refused without a query."""
    for key in ("idk_" + "\x00" * 12 + "_s", "idk_ZZZZZZZZZZZZ_s", "idk_short_s", "nope"):
        assert not authenticates(app, key)
