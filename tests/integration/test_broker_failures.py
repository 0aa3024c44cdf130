"""Upstream failures: §5 outcomes, a valid cached token served meanwhile, bounded retries."""

from __future__ import annotations

import math
from typing import Any

import pytest

from identity.extensions import services
from tests import broker_helpers
from tests.broker_helpers import Reader, add_connection
from tests.conftest import service_error

# fixtures shared by the broker tests
broker_app = broker_helpers.broker_app
clock = broker_helpers.clock
mock = broker_helpers.mock

OUTCOMES = [
    ("500", 503, "UPSTREAM_UNAVAILABLE"),
    ("timeout", 503, "UPSTREAM_UNAVAILABLE"),
    ("garbage", 503, "UPSTREAM_UNAVAILABLE"),
    ("401", 502, "UPSTREAM_UNAUTHORIZED"),
]


@pytest.mark.parametrize(("failure", "status", "message_id"), OUTCOMES)
@pytest.mark.parametrize("method", ["ibsso", "oauth2"])
def test_cold_cache_failures_give_the_documented_outcome(
    broker_app: Any, mock: Any, method: str, failure: str, status: int, message_id: str
) -> None:
    """With nothing cached: 401 upstream → 502, anything else → 503 with Retry-After."""
    app = broker_app(broker_read_timeout=0.3)
    mock.set(hang=2.0)
    mock.fail(failure)
    add_connection(app, mock, method=method)
    response = Reader(app).read()
    assert response.status_code == status
    assert service_error(response)["messageId"] == message_id
    if status == 503:
        assert int(response.headers["Retry-After"]) >= 1
    assert mock.logins == 1


def test_refused_connection_is_503(broker_app: Any, mock: Any) -> None:
    """An upstream that refuses connections is UPSTREAM_UNAVAILABLE."""
    app = broker_app()
    add_connection(app, mock)
    mock.stop()
    response = Reader(app).read()
    assert response.status_code == 503
    assert service_error(response)["messageId"] == "UPSTREAM_UNAVAILABLE"


@pytest.mark.parametrize(
    ("method", "failure"),
    [
        ("ibsso", "500"),
        ("ibsso", "timeout"),
        ("ibsso", "garbage"),
        ("oauth2", "500"),
        ("oauth2", "timeout"),
        ("oauth2", "garbage"),
        ("oauth2", "401"),
    ],
)
def test_a_valid_cached_token_is_served_while_the_upstream_fails(
    broker_app: Any, mock: Any, clock: Any, method: str, failure: str
) -> None:
    """Past its refresh time but still valid, the cached token is served when refreshing fails."""
    app = broker_app(broker_read_timeout=0.3)
    add_connection(app, mock, method=method, lifetime=100)
    reader = Reader(app)
    cached = reader.read().get_json()
    mock.set(hang=2.0)
    mock.fail(failure)
    clock.advance(85)  # past the refresh time (80 s), 15 s before expiry
    for _ in range(3):
        response = reader.read()
        assert response.status_code == 200
        assert response.get_json() == cached
    # one refresh attempt (an IBSSO one fails at the logout), then the breaker holds calls
    assert sum(mock.calls.values()) == 2


def test_after_a_failed_ibsso_logout_the_old_session_is_still_served(
    broker_app: Any, mock: Any, clock: Any
) -> None:
    """A logout that fails (upstream down) leaves the session alive, so it is still served."""
    app = broker_app()
    add_connection(app, mock, lifetime=100)
    reader = Reader(app)
    cached = reader.read().get_json()
    mock.fail("500")
    clock.advance(85)
    assert reader.read().get_json() == cached
    assert mock.state.history == ["POST /auth/1/session", "DELETE /auth/1/session"]


def test_the_upstream_is_called_again_once_it_recovers(
    broker_app: Any, mock: Any, clock: Any
) -> None:
    """After the backoff has passed and the upstream is back, one call succeeds and resets it."""
    app = broker_app(broker_backoff_base=1.0)
    add_connection(app, mock, method="oauth2")
    reader = Reader(app)
    mock.fail("500")
    assert reader.read().status_code == 503
    assert reader.read().status_code == 503  # within the backoff: no new call
    assert mock.logins == 1
    mock.fail(None)
    clock.advance(1.1)
    assert reader.read().status_code == 200
    assert mock.logins == 2
    with app.app_context():
        assert services().broker.store.breaker("sms").failures == 0


def test_rejected_credentials_stay_502_during_the_backoff(broker_app: Any, mock: Any) -> None:
    """While the breaker is open after a 401, readers keep getting 502, not 503."""
    app = broker_app()
    add_connection(app, mock, method="oauth2")
    mock.fail("401")
    reader = Reader(app)
    assert reader.read().status_code == 502
    assert reader.read().status_code == 502
    assert mock.logins == 1


def test_a_dead_upstream_under_20_rps_for_10_s_sees_a_bounded_number_of_calls(
    broker_app: Any, mock: Any, clock: Any
) -> None:
    """Exponential backoff (1 s, doubling): attempts at 0, 1, 3, 7 s → at most 4 calls in 10 s."""
    base, seconds, rate = 1.0, 10.0, 20
    app = broker_app(broker_backoff_base=base, broker_backoff_max=60.0)
    add_connection(app, mock, method="oauth2")
    mock.fail("500")
    reader = Reader(app)
    statuses = set()
    for _ in range(int(seconds * rate)):
        statuses.add(reader.read().status_code)
        clock.advance(1 / rate)
    bound = math.floor(math.log2(seconds / base + 1)) + 1
    assert bound == 4
    assert 3 <= mock.logins <= bound
    assert statuses == {503}


def test_the_backoff_is_shared_by_instances(broker_app: Any, mock: Any) -> None:
    """A second instance respects the first one's open breaker: no extra upstream call."""
    first, second = broker_app(), broker_app()
    add_connection(first, mock, method="oauth2")
    mock.fail("500")
    assert Reader(first).read().status_code == 503
    response = Reader(second).read()
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) >= 1
    assert mock.logins == 1


def test_a_redis_outage_falls_back_to_the_database(broker_app: Any, mock: Any) -> None:
    """With Redis configured but unreachable, the broker keeps working through the database."""
    app = broker_app(redis_url="redis://127.0.0.1:1/0")
    add_connection(app, mock)
    reader = Reader(app)
    first = reader.read()
    assert first.status_code == 200
    assert reader.read().get_json() == first.get_json()
    assert mock.logins == 1
    with app.app_context():
        store = services().broker.store
        assert store.backend == "database (redis down)"
        assert store.fallback.load("sms") is not None
