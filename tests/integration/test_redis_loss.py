"""Redis restarting empty (no persistence): nothing revoked comes back to life.

Each test runs its own ``redis-server`` (``tests.faults.RedisServer``) and restarts it empty;
the machine's Redis is never touched.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from flask import Flask

from identity.errors import InvalidToken
from identity.extensions import services
from identity.setup import prepare_worker
from tests import backends
from tests.customers_helpers import create_customer, customer_token
from tests.faults import RedisServer
from tests.http.test_oauth_introspect_revoke import introspect, revoke
from tests.partners_helpers import access_token_for, make_client

pytestmark = pytest.mark.skipif(
    backends.BACKEND != "postgres", reason="needs the PostgreSQL + Redis run (make test runs it)"
)


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    server = RedisServer()
    yield server
    server.stop()


def test_revoked_token_stays_revoked_after_redis_restarts_empty(
    make_app: Any, own_redis: RedisServer
) -> None:
    """Revoked on B, Redis restarts empty, no request in between: A still says inactive, and
    so does an instance started afterwards."""
    a, b = make_app(redis_url=own_redis.url), make_app(redis_url=own_redis.url)
    partner = make_client(a, "profile:read")
    token = access_token_for(a.test_client(), partner)
    assert introspect(a.test_client(), partner, token).get_json()["active"] is True
    assert revoke(b.test_client(), partner, token).status_code == 200

    own_redis.restart()
    for _ in range(3):
        assert introspect(a.test_client(), partner, token).get_json() == {"active": False}
    assert introspect(b.test_client(), partner, token).get_json() == {"active": False}
    late = make_app(redis_url=own_redis.url)
    assert introspect(late.test_client(), partner, token).get_json() == {"active": False}


def test_revocations_are_copied_back_once_redis_is_empty(
    make_app: Any, own_redis: RedisServer
) -> None:
    """The first check after the loss copies the database's revocations back into Redis, so
    later checks are answered by Redis again (one round trip)."""
    a, b = make_app(redis_url=own_redis.url), make_app(redis_url=own_redis.url)
    partner = make_client(a, "profile:read")
    tokens = [access_token_for(a.test_client(), partner) for _ in range(3)]
    for token in tokens:
        assert revoke(a.test_client(), partner, token).status_code == 200
    own_redis.restart()
    assert introspect(b.test_client(), partner, tokens[0]).get_json() == {"active": False}
    with b.app_context():
        shared: Any = services().shared
        keys = shared.primary.client.keys(f"{shared.primary.prefix}revoked:*")
        assert len(keys) == 3
        assert shared.primary.client.get(f"{shared.primary.prefix}generation") is not None


def test_revocation_check_is_one_redis_round_trip(make_app: Any, own_redis: RedisServer) -> None:
    """The hot-path check reads the revocation and the loss marker in one command."""
    app = make_app(redis_url=own_redis.url)
    with app.app_context():
        shared: Any = services().shared
        shared.is_revoked("warm-up")  # connects and writes the marker
        info = shared.primary.client.info
        before = info("stats")["total_commands_processed"]
        assert shared.is_revoked("some-jti") is False
        after = info("stats")["total_commands_processed"]
    assert after - before == 2  # the check, and the first INFO itself


def _authenticates(app: Flask, token: str) -> bool:
    with app.app_context():
        try:
            services().customer_sessions.authenticate(token)
        except InvalidToken:
            return False
        return True


def test_disabling_a_customer_after_redis_loss_still_ends_the_live_token(
    make_app: Any, own_redis: RedisServer
) -> None:
    """A session's live token is found in the database when Redis lost it: disabling the
    customer after the loss still refuses that token everywhere."""
    a, b = make_app(redis_url=own_redis.url), make_app(redis_url=own_redis.url)
    create_customer(a, "carol")
    token = customer_token(a.test_client(), "carol")
    assert _authenticates(b, token)

    own_redis.restart()
    with b.app_context():
        customers = services().customers
        customers.disable(customers.by_username("carol"))  # type: ignore[arg-type]
    assert not _authenticates(a, token)
    assert not _authenticates(b, token)


def test_worker_start_reloads_an_empty_redis(make_app: Any, own_redis: RedisServer) -> None:
    """A worker starting on an empty Redis copies the revocations in before any request."""
    a = make_app(redis_url=own_redis.url)
    partner = make_client(a, "profile:read")
    token = access_token_for(a.test_client(), partner)
    assert revoke(a.test_client(), partner, token).status_code == 200
    own_redis.restart()

    prepare_worker(make_app(redis_url=own_redis.url))
    raw = redis.Redis.from_url(own_redis.url)
    assert len(raw.keys("*:generation")) == 1
    assert len(raw.keys("*revoked:*")) == 1
    raw.close()
