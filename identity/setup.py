"""First-run and start-up checks: migrate, create keys, fail fast on bad key material."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError

from identity.errors import ConfigError
from identity.extensions import services
from identity.models.base import db
from identity.storage.shared import FallbackShared

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger("identity.startup")


def initialise(dev_inbox_app: bool = False) -> list[str]:
    """``identity init``: apply every migration, then ensure an active signing key; on a fresh
    embedded (SQLite) install, with ``dev_inbox_app``, a local-development inbox app too."""
    from flask_migrate import Migrate, upgrade  # alembic: loaded by `identity init` only

    if "migrate" not in current_app.extensions:
        Migrate(current_app, db, directory=str(MIGRATIONS))
    upgrade(directory=str(MIGRATIONS), revision="heads")
    lines = ["database migrated"]
    kid = services().keys.ensure()
    lines.append(f"created signing key {kid}" if kid else "key ring present")
    lines.extend(f"created ES256 signing key {es}" for es in services().apis.ensure_keys())
    if dev_inbox_app and kid and db.engine.dialect.name == "sqlite":
        created = services().inbox_apps.ensure_dev_app()
        lines.extend([created] if created else [])
    return lines


def check_startup(app: Flask) -> None:
    """Fail at start-up, in one line, when the schema or the key ring cannot be used."""
    with app.app_context():
        tables = inspect(db.engine)
        if not tables.has_table("signing_keys"):
            raise ConfigError("DATABASE_URL", "database is not initialised (run `identity init`)")
        if not (tables.has_table("inbox_apps") and tables.has_table("apis")):
            raise ConfigError("DATABASE_URL", "database schema is outdated (run `identity init`)")
        keys = services().keys
        keys.ring()  # decrypts every key: a wrong passphrase fails here
        if not keys.jwks()["keys"]:
            raise ConfigError("IDENTITY_KEYS_DIR", "no signing key (run `identity init`)")
        # Inbox is optional: a deployment without an inbox app starts, with one warning line.
        for line in services().inbox_apps.startup_warnings():
            log.warning(line)


def prepare_worker(app: Flask) -> None:
    """At worker start: reload shared state into a Redis that lost it (best effort; requests
    check again on their own)."""
    shared = services(app).shared
    if not isinstance(shared, FallbackShared):
        return
    with app.app_context():
        try:
            shared.restore_if_lost()
        except SQLAlchemyError as exc:  # database not reachable yet: the first request retries
            log.warning("shared state not checked at start: %s", type(exc).__name__)
        finally:
            db.session.remove()
