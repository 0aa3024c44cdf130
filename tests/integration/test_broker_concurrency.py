"""Single flight: however many readers ask at once, exactly one upstream call is made."""

from __future__ import annotations

from typing import Any

import pytest

from identity.extensions import services
from tests import backends, broker_helpers
from tests.broker_helpers import Reader, add_connection, concurrently

# fixtures shared by the broker tests
broker_app = broker_helpers.broker_app
clock = broker_helpers.clock
mock = broker_helpers.mock

READERS = 50


def _read_all(readers: list[Reader]) -> list[Any]:
    responses = concurrently(READERS, lambda i: readers[i % len(readers)].read())
    return [(r.status_code, r.get_json()) for r in responses]


def test_50_threads_on_a_cold_cache_make_one_upstream_call(broker_app: Any, mock: Any) -> None:
    """50 concurrent readers in one instance: one login, every reader gets its token."""
    app = broker_app()
    add_connection(app, mock)
    mock.set(latency=0.3)
    answers = _read_all([Reader(app)])
    assert {status for status, _ in answers} == {200}
    assert len({body["authorization"] for _, body in answers}) == 1
    assert mock.calls["POST /auth/1/session"] == 1


def test_50_readers_across_two_instances_make_one_upstream_call(broker_app: Any, mock: Any) -> None:
    """Two instances sharing the store (database lease on SQLite, Redis lock with Redis)."""
    first, second = broker_app(), broker_app()
    add_connection(first, mock)
    mock.set(latency=0.3)
    answers = _read_all([Reader(first), Reader(second)])
    assert {status for status, _ in answers} == {200}
    assert len({body["authorization"] for _, body in answers}) == 1
    assert mock.calls["POST /auth/1/session"] == 1


@pytest.mark.skipif(backends.BACKEND != "postgres", reason="needs the PostgreSQL backend")
def test_instances_sharing_only_postgresql_make_one_upstream_call(
    broker_app: Any, mock: Any
) -> None:
    """Without Redis, the PostgreSQL lease keeps 50 readers on two instances to one call."""
    first, second = broker_app(redis_url=""), broker_app(redis_url="")
    assert services(first).broker.store.backend == "database"
    add_connection(first, mock, method="oauth2")
    mock.set(latency=0.3)
    answers = _read_all([Reader(first), Reader(second)])
    assert {status for status, _ in answers} == {200}
    assert len({body["authorization"] for _, body in answers}) == 1
    assert mock.logins == 1


@pytest.mark.parametrize("method", ["ibsso", "oauth2"])
def test_50_readers_of_an_expiring_token_make_one_refresh(
    broker_app: Any, mock: Any, clock: Any, method: str
) -> None:
    """Past the refresh time, one refresh is made; nobody receives an unusable token."""
    first, second = broker_app(), broker_app()
    add_connection(first, mock, method=method, lifetime=100)
    old = Reader(first).read().get_json()["authorization"]
    Reader(second).read()
    mock.reset_calls()
    mock.set(latency=0.3)
    clock.advance(85)
    answers = _read_all([Reader(first), Reader(second)])
    assert {status for status, _ in answers} == {200}
    served = {body["authorization"] for _, body in answers}
    assert mock.logins == 1
    valid = set(mock.state.valid_sessions()) | set(mock.state.tokens)
    new = served - {old}
    assert len(new) == 1 and new.pop().split()[1] in valid
    if method == "ibsso":  # the old session is destroyed first, so nobody may be handed it
        assert served.isdisjoint({old})
        assert mock.calls["DELETE /auth/1/session"] == 1
