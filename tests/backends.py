"""Which database and cache the suite runs against.

``IDENTITY_TEST_BACKEND=sqlite`` (default): a migrated SQLite file per test, no Redis.
``IDENTITY_TEST_BACKEND=postgres``: a throw-away PostgreSQL database for the session (created on
the server at ``IDENTITY_TEST_PG``), plus Redis at ``IDENTITY_TEST_REDIS``, with a unique
prefix per test.
With ``CI=true`` a missing server is a failure, never a skip.
"""

from __future__ import annotations

import os
import uuid

import psycopg
import redis

BACKEND = os.environ.get("IDENTITY_TEST_BACKEND", "sqlite")
PG_SERVER = os.environ.get("IDENTITY_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("IDENTITY_TEST_REDIS", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() == "true"


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
