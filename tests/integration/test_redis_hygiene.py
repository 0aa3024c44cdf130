"""The suite's Redis use: a DB of its own (never 0), and every key it writes deleted."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import redis

from identity.extensions import services
from tests import backends

pytestmark = pytest.mark.skipif(
    backends.BACKEND != "postgres", reason="needs the PostgreSQL + Redis run (make test runs it)"
)


def test_the_suite_uses_a_redis_db_of_its_own() -> None:
    assert backends.redis_db() != 0
    assert backends.SESSION_PREFIX.startswith("identity-test:")


def test_deleting_a_prefix_deletes_those_keys_and_no_other() -> None:
    client = redis.Redis.from_url(backends.REDIS_URL)
    ours, other = f"{backends.SESSION_PREFIX}{uuid.uuid4().hex}:", f"elsewhere-{uuid.uuid4().hex}"
    try:
        client.set(f"{ours}a", "1")
        client.set(f"{ours}b", "2", ex=60)
        client.set(other, "3")
        assert backends.delete_redis_keys(ours) == 2
        assert list(client.scan_iter(match=f"{ours}*")) == []
        assert client.get(other) == b"3"
    finally:
        client.delete(other)
        client.close()


def test_an_app_writes_under_the_session_prefix(make_app: Any) -> None:
    """A revocation lands in the test DB under this run's prefix (which the run deletes)."""
    from datetime import UTC, datetime, timedelta

    app = make_app()
    with app.app_context():
        prefix = services().settings.redis_prefix
        services().shared.revoke("jti-hygiene", datetime.now(UTC) + timedelta(minutes=5))
    assert prefix.startswith(backends.SESSION_PREFIX)
    client = redis.Redis.from_url(backends.REDIS_URL)
    try:
        assert list(client.scan_iter(match=f"{prefix}*"))  # make_app's teardown deletes them
    finally:
        client.close()
