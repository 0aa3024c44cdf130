"""Migration 0004 on a database with clients: their scopes become grants on the built-in API,
so every existing client keeps getting the same tokens (both backends)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask, current_app
from flask_migrate import Migrate, downgrade, upgrade
from sqlalchemy import text

from identity.crypto.hashing import hash_secret
from identity.errors import ConfigError
from identity.extensions import services
from identity.models.base import db
from identity.setup import MIGRATIONS, check_startup
from tests.partners_helpers import basic

INSERT = (
    "INSERT INTO oauth_clients (client_id, name, secret_hash, scope, token_lifetime, enabled, "
    "created_at, secret_rotated_at) VALUES (:cid, 'old', :hash, :scope, NULL, :on, :now, :now)"
)


def test_existing_clients_keep_their_scopes(app: Flask) -> None:
    with app.app_context():
        if "migrate" not in current_app.extensions:
            Migrate(current_app, db, directory=str(MIGRATIONS))
        directory = str(MIGRATIONS)
        downgrade(directory=directory, revision="0003")
        pepper = services().settings.hash_pepper
        now = datetime.now(UTC)
        for cid, scope in (("old-admin", "admin profile:read"), ("old-bare", "")):
            db.session.execute(
                text(INSERT),
                {"cid": cid, "hash": hash_secret("s3cret", pepper), "scope": scope,
                 "on": True, "now": now},
            )  # fmt: skip
        db.session.commit()
        upgrade(directory=directory, revision="heads")
        grants = db.session.execute(
            text(
                "SELECT c.client_id, a.name, g.scopes FROM client_grants g "
                "JOIN oauth_clients c ON c.id = g.client_pk JOIN apis a ON a.id = g.api_id"
            )
        ).all()
        db.session.commit()
    assert [tuple(row) for row in grants] == [("old-admin", "identity", "admin profile:read")]
    response = app.test_client().post(
        "/access_token",
        data={"grant_type": "client_credentials"},
        headers=basic("old-admin", "s3cret"),
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["scope"] == "admin profile:read"


def test_a_database_before_the_apis_migration_stops_startup(app: Flask) -> None:
    """New code on an old schema: one line asking for `identity init`, not a failing query."""
    with app.app_context():
        if "migrate" not in current_app.extensions:
            Migrate(current_app, db, directory=str(MIGRATIONS))
        downgrade(directory=str(MIGRATIONS), revision="0003")
        db.session.commit()
    try:
        with pytest.raises(ConfigError) as caught:
            check_startup(app)
        assert (
            str(caught.value) == "DATABASE_URL: database schema is outdated (run `identity init`)"
        )
    finally:
        with app.app_context():
            upgrade(directory=str(MIGRATIONS), revision="heads")
