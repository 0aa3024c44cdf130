"""Which database and cache the suite runs against.

``IDENTITY_TEST_BACKEND=sqlite`` (default): a migrated SQLite file per test, no Redis.
``IDENTITY_TEST_BACKEND=postgres``: a throw-away PostgreSQL database for the session (created on
the server at ``IDENTITY_TEST_PG``), plus Redis at ``IDENTITY_TEST_REDIS`` (default DB 15, never
DB 0: a developer's own data lives there). Every key the suite writes starts with
``SESSION_PREFIX``; each test deletes its own keys and the session deletes what is left.
With ``CI=true`` a missing server is a failure, never a skip.
"""

from __future__ import annotations

import os
import uuid

import psycopg
import redis

BACKEND = os.environ.get("IDENTITY_TEST_BACKEND", "sqlite")
PG_SERVER = os.environ.get("IDENTITY_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("IDENTITY_TEST_REDIS", "redis://127.0.0.1:6379/15")
SESSION_PREFIX = f"identity-test:{uuid.uuid4().hex[:12]}:"
IN_CI = os.environ.get("CI", "").lower() == "true"


def redis_db() -> int:
    """The DB number ``IDENTITY_TEST_REDIS`` names (``/<n>`` or ``?db=<n>``; Redis' default 0)."""
    return int(redis.Redis.from_url(REDIS_URL).connection_pool.connection_kwargs.get("db", 0))


def redis_address() -> tuple[str, int]:
    kwargs = redis.Redis.from_url(REDIS_URL).connection_pool.connection_kwargs
    return str(kwargs.get("host", "127.0.0.1")), int(kwargs.get("port", 6379))


def redis_url_via(port: int) -> str:
    """The test Redis URL (same DB) through another local port, such as a fault proxy's."""
    return f"redis://127.0.0.1:{port}/{redis_db()}"


def delete_redis_keys(prefix: str) -> int:
    """Delete every key under ``prefix`` (a test's own, or the session's); returns how many."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    deleted = 0
    try:
        batch = list(client.scan_iter(match=f"{prefix}*", count=500))
        for start in range(0, len(batch), 500):
            deleted += int(client.delete(*batch[start : start + 500]))
    finally:
        client.close()
    return deleted


def postgres_available() -> bool:
    try:
        with psycopg.connect(PG_SERVER, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def create_pg_database() -> str:
    """A fresh database on the PostgreSQL server; returns its SQLAlchemy URL."""
    name = f"identity_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_SERVER, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_SERVER.rsplit("/", 1)[0]
    return f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"


def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_SERVER, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
