"""Fixtures from the factory, and action helpers shared by every test module."""

from __future__ import annotations

import itertools
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from identity.app import create_app
from identity.crypto import keys as keycrypto
from identity.extensions import services
from identity.models.base import db
from identity.setup import initialise
from tests import backends

TEST_SECRETS: dict[str, Any] = {
    "secret_key": "test-secret-key-" + "x" * 32,
    "key_passphrase": "test-key-passphrase-0123456789",
    "customer_id_secret": "test-customer-id-secret-" + "y" * 32,
    "hash_pepper": "test-hash-pepper-" + "z" * 32,
    "encryption_keys": (Fernet.generate_key().decode(),),
    "argon2_time_cost": 1,
    "argon2_memory_kib": 8,
    "issuer": "http://identity.test",
    "log_level": "WARNING",
    "inbox_api_key": "test-inbox-api-key",
    "keyring_cache_seconds": 0,
    "revocation_check_seconds": 0,  # tests see revocations by other instances at once
    "client_cache_seconds": 0,  # ...and client/API-key changes made through the database
    # Never let a test reach a real upstream: the default Exchange URL is a closed local port.
    "exchange_base_url": "http://127.0.0.1:9",
}


def pytest_sessionstart(session: pytest.Session) -> None:
    if backends.BACKEND == "postgres" and backends.redis_db() == 0:
        pytest.exit(
            f"IDENTITY_TEST_REDIS={backends.REDIS_URL}: DB 0 is the developer's own; "
            "name another DB (default redis://127.0.0.1:6379/15)",
            returncode=4,
        )
    if backends.BACKEND == "postgres":
        missing = [
            name
            for name, ok in (
                ("PostgreSQL", backends.postgres_available()),
                ("Redis", backends.redis_available()),
            )
            if not ok
        ]
        if missing and backends.IN_CI:
            pytest.exit(f"CI=true and {', '.join(missing)} not reachable: failing", returncode=3)
        if missing:
            pytest.exit(
                f"{', '.join(missing)} not reachable: skipping the postgres run", returncode=0
            )


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Leave the test Redis DB as found: no key of this session survives it."""
    if backends.BACKEND == "postgres" and backends.redis_available():
        backends.delete_redis_keys(backends.SESSION_PREFIX)


# --- RSA keys: generated once per session, handed out in turn (generation is slow) ---------
@pytest.fixture(scope="session", autouse=True)
def _key_pool() -> Iterator[Callable[..., Any]]:
    """Yields the real generator (for keys that must never come round again)."""
    pool = [keycrypto.generate_rsa_key(2048) for _ in range(6)]
    cycle = itertools.cycle(pool)
    original = keycrypto.generate_rsa_key
    keycrypto.generate_rsa_key = lambda bits=2048: next(cycle)  # type: ignore[assignment]
    yield original
    keycrypto.generate_rsa_key = original  # type: ignore[assignment]


# --- databases ---------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def _migrated(
    tmp_path_factory: pytest.TempPathFactory, _key_pool: Callable[..., Any]
) -> Iterator[str]:
    """A migrated database once per session: a template SQLite file, or a PostgreSQL database.

    Its key is not from the pool: a rotation in a copy of it must never draw the same key
    (and so the same kid) again."""
    if backends.BACKEND == "postgres":
        url = backends.create_pg_database()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('template') / 'template.db'}"
    app = create_app({**TEST_SECRETS, "database_url": url})
    pooled = keycrypto.generate_rsa_key
    keycrypto.generate_rsa_key = _key_pool  # type: ignore[assignment]
    try:
        with app.app_context():
            initialise()
            db.engine.dispose()
    finally:
        keycrypto.generate_rsa_key = pooled  # type: ignore[assignment]
    yield url
    if backends.BACKEND == "postgres":
        backends.drop_pg_database(url)


@pytest.fixture
def database_url(_migrated: str, tmp_path: Path) -> str:
    if backends.BACKEND == "postgres":
        return _migrated
    target = tmp_path / "identity.db"
    shutil.copyfile(_migrated.removeprefix("sqlite:///"), target)
    return f"sqlite:///{target}"


def _truncate(app: Flask) -> None:
    with app.app_context():
        tables = [t.name for t in db.metadata.sorted_tables]
        db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        db.session.commit()


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a module to change settings for its tests."""
    return {}


@pytest.fixture
def make_app(database_url: str, settings_overrides: dict[str, Any]) -> Iterator[Any]:
    """Factory of apps over the test database (several apps = several instances)."""
    apps: list[Flask] = []
    prefix = f"{backends.SESSION_PREFIX}{uuid.uuid4().hex}:"

    def factory(**overrides: Any) -> Flask:
        config = {**TEST_SECRETS, "database_url": database_url, **settings_overrides, **overrides}
        if backends.BACKEND == "postgres":
            config.setdefault("redis_url", backends.REDIS_URL)
            config.setdefault("redis_prefix", prefix)
        app = create_app(config)
        app.config["TESTING"] = True
        if not apps and backends.BACKEND == "postgres":
            _truncate(app)
        with app.app_context():
            services().keys.ensure()
        apps.append(app)
        return app

    yield factory
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    if apps and backends.BACKEND == "postgres":
        backends.delete_redis_keys(prefix)


@pytest.fixture
def app(make_app: Any) -> Flask:
    return make_app()  # type: ignore[no-any-return]


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


# --- action helpers ------------------------------------------------------------------------------
def access_token(
    app: Flask, scope: str = "", client_id: str = "test-client", lifetime: int | None = None
) -> str:
    """Mint an access token directly (for tests of endpoints that need one)."""
    with app.app_context():
        return str(services().tokens.issue_access_token(client_id, scope, lifetime).token)


def api_key(app: Flask, scope: str = "", expires_in: int | None = None) -> str:
    with app.app_context():
        return str(services().api_keys.create("test key", scope, expires_in).key)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def service_error(response: Any) -> dict[str, Any]:
    """The ``serviceException`` of an Infobip-shaped error body."""
    body = response.get_json()
    assert set(body) == {"requestError"}, body
    return body["requestError"]["serviceException"]  # type: ignore[no-any-return]
