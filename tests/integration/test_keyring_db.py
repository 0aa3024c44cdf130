"""The key ring in the database: rotation end to end, encryption at rest, shared by instances."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from flask import Flask
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import OperationalError

from identity.errors import ConfigError
from identity.extensions import services
from identity.models import SigningKey
from identity.models.base import db
from identity.setup import check_startup, initialise
from tests.conftest import access_token


class FrozenClock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def jwks_verify(client: Any, token: str) -> dict[str, Any]:
    """Verify like a relying party: fetch JWKS, pick the key by kid."""
    keys = client.get("/.well-known/jwks.json").get_json()["keys"]
    kid = jwt.get_unverified_header(token)["kid"]
    match = [k for k in keys if k["kid"] == kid]
    if not match:
        raise LookupError(kid)
    key = jwt.PyJWK.from_json(json.dumps(match[0])).key
    return jwt.decode(token, key, algorithms=["RS256"], options={"verify_exp": False})


def test_rotation_end_to_end(app: Flask, runner: Any) -> None:
    """Rotate → pre-published; promote → new key signs; old tokens verify until the grace ends."""
    client = app.test_client()
    clock = FrozenClock()
    with app.app_context():
        keys = services().keys
        keys.clock = clock
        old_token = keys.sign({"sub": "before"}, "JWT")

    result = runner.invoke(args=["identity", "keys", "rotate", "--promote-after", "60", "--json"])
    assert result.exit_code == 0, result.output
    new_kid = json.loads(result.output)["kid"]
    kids = [k["kid"] for k in client.get("/.well-known/jwks.json").get_json()["keys"]]
    assert new_kid in kids and len(kids) == 2  # pre-published, not yet signing

    clock.now += timedelta(seconds=61)  # promoted by time, on every instance alike
    with app.app_context():
        new_token = services().keys.sign({"sub": "after"}, "JWT")
    assert jwt.get_unverified_header(new_token)["kid"] == new_kid
    assert jwks_verify(client, old_token)["sub"] == "before"
    assert jwks_verify(client, new_token)["sub"] == "after"

    grace = services(app).settings.max_token_ttl + services(app).settings.clock_leeway
    clock.now += timedelta(seconds=grace - 5)
    assert jwks_verify(client, old_token)["sub"] == "before"  # still inside the longest lifetime
    clock.now += timedelta(seconds=10)
    with pytest.raises(LookupError):
        jwks_verify(client, old_token)

    listed = json.loads(runner.invoke(args=["identity", "keys", "list", "--json"]).output)["keys"]
    assert {k["state"] for k in listed} == {"active", "removed"}
    retired = json.loads(runner.invoke(args=["identity", "keys", "retire", "--json"]).output)
    assert len(retired["removed"]) == 1
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(SigningKey)) == 1


def test_promote_now_and_rotate_twice_conflicts(app: Flask, runner: Any) -> None:
    assert (
        runner.invoke(args=["identity", "keys", "rotate", "--promote-after", "3600"]).exit_code == 0
    )
    again = runner.invoke(args=["identity", "keys", "rotate"])
    assert again.exit_code != 0
    promoted = json.loads(runner.invoke(args=["identity", "keys", "promote", "--json"]).output)
    with app.app_context():
        token = services().keys.sign({"sub": "x"}, "JWT")
    assert jwt.get_unverified_header(token)["kid"] == promoted["kid"]


def test_private_keys_are_encrypted_at_rest(app: Flask) -> None:
    """No unencrypted PEM in the database rows (nor in the SQLite file)."""
    with app.app_context():
        rows = db.session.scalars(select(SigningKey)).all()
        assert rows
        for row in rows:
            # Built in two parts so that no tracked file contains a PEM private-key marker.
            assert row.private_pem.startswith(b"-----BEGIN ENCRYPTED " + b"PRIVATE KEY-----")
        url = str(db.engine.url)
    if url.startswith("sqlite"):
        with open(url.removeprefix("sqlite:///"), "rb") as handle:
            raw = handle.read()
        assert b"BEGIN PRIVATE KEY" not in raw and b"BEGIN RSA PRIVATE KEY" not in raw


def test_wrong_passphrase_is_a_clear_startup_error(app: Flask, database_url: str) -> None:
    from identity.app import create_app
    from tests.conftest import TEST_SECRETS

    other = create_app(
        {
            **TEST_SECRETS,
            "database_url": database_url,
            "key_passphrase": "a-different-passphrase-123",
        }
    )
    try:
        with pytest.raises(ConfigError) as caught:
            check_startup(other)
    finally:
        with other.app_context():
            db.engine.dispose()
    assert str(caught.value).startswith("IDENTITY_KEY_PASSPHRASE: cannot decrypt")


def test_two_instances_publish_the_same_jwks(make_app: Any) -> None:
    first, second = make_app(), make_app()
    with first.app_context():
        services().keys.rotate(3600)
    a = first.test_client().get("/.well-known/jwks.json").get_json()
    b = second.test_client().get("/.well-known/jwks.json").get_json()
    assert a == b and len(a["keys"]) == 2
    with first.app_context():
        t1 = services().keys.sign({"sub": "1"}, "JWT")
    with second.app_context():
        t2 = services().keys.sign({"sub": "2"}, "JWT")
    assert jwt.get_unverified_header(t1)["kid"] == jwt.get_unverified_header(t2)["kid"]


def test_migrations_upgrade_from_empty(app: Flask) -> None:
    """The test database was built by the migrations alone; they are at head and idempotent."""
    with app.app_context():
        inspector = inspect(db.engine)
        for table in (
            "signing_keys",
            "oauth_clients",
            "api_keys",
            "customers",
            "upstream_connections",
            "exchange_accounts",
            "revoked_tokens",
        ):
            assert inspector.has_table(table), table
        version = (
            db.session.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        )
        assert version
        assert initialise()[0] == "database migrated"  # running again is safe


def test_second_rotation_on_another_worker_is_409(make_app: Any) -> None:
    """Two workers with cached rings: the second rotation reads the database and gets 409."""
    first, second = make_app(), make_app()
    admin_first = {"Authorization": f"Bearer {access_token(first, 'admin')}"}
    admin_second = {"Authorization": f"Bearer {access_token(second, 'admin')}"}
    second.test_client().get("/.well-known/jwks.json")  # the second worker caches its ring
    rotated = first.test_client().post("/admin/keys/rotate", headers=admin_first, json={})
    assert rotated.status_code == 201
    again = second.test_client().post("/admin/keys/rotate", headers=admin_second, json={})
    assert again.status_code == 409, again.get_json()
    assert again.get_json()["requestError"]["serviceException"]["messageId"] == "CONFLICT"
    states = [
        k["state"]
        for k in first.test_client().get("/admin/keys", headers=admin_first).get_json()["keys"]
    ]
    assert states.count("next") == 1


def test_ring_held_keeps_signing_while_the_database_fails(app: Flask) -> None:
    """A failed re-read serves the ring already held, and is not tried again for a while:
    signing needs no database (both backends; the fault is injected into the store)."""
    with app.app_context():
        keys = services().keys
        kid = keys.ring().active(keys.clock()).kid  # type: ignore[union-attr]
        calls: list[int] = []

        def failing_load() -> Any:
            calls.append(1)
            raise OperationalError("SELECT signing_keys", None, OSError("no answer"))

        keys._store.load = failing_load  # type: ignore[method-assign]
        for _ in range(3):  # the test app re-reads every time (keyring_cache_seconds 0)
            token = keys.sign({"sub": "x", "exp": 2**40}, "JWT")
            assert jwt.get_unverified_header(token)["kid"] == kid
        assert len(calls) == 1  # then the back-off: no second try within RELOAD_BACKOFF
