"""Upstream back-pressure (issue 12): Retry-After obeyed, backoff from the failure, lifetimes
clamped; upstream calls counted on the mock."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from identity.broker.upstream import retry_after_seconds
from identity.extensions import services
from tests import broker_helpers
from tests.broker_helpers import Reader, add_connection
from tests.conftest import service_error

broker_app = broker_helpers.broker_app
clock = broker_helpers.clock
mock = broker_helpers.mock


@pytest.mark.parametrize("method", ["ibsso", "oauth2"])
def test_upstream_429_retry_after_is_obeyed(
    broker_app: Any, mock: Any, clock: Any, method: str
) -> None:
    """No upstream call before Retry-After elapses; callers get the remaining wait."""
    app = broker_app(broker_backoff_base=1.0, broker_backoff_max=60.0)
    add_connection(app, mock, method=method)
    mock.set(retry_after="120")
    mock.fail("429")
    reader = Reader(app)
    first = reader.read()
    assert first.status_code == 503
    assert service_error(first)["messageId"] == "UPSTREAM_UNAVAILABLE"
    assert int(first.headers["Retry-After"]) == 120
    clock.advance(60)  # far past the backoff (1 s), within Retry-After
    second = reader.read()
    assert second.status_code == 503
    assert int(second.headers["Retry-After"]) == 60
    assert mock.logins == 1
    mock.fail(None)
    clock.advance(61)
    assert reader.read().status_code == 200
    assert mock.logins == 2


def test_retry_after_is_shared_by_every_instance(broker_app: Any, mock: Any, clock: Any) -> None:
    """A second instance (shared database or Redis) does not call before Retry-After either."""
    first, second = broker_app(), broker_app()
    add_connection(first, mock, method="oauth2")
    mock.set(retry_after="30")
    mock.fail("429")
    assert Reader(first).read().status_code == 503
    clock.advance(10)
    response = Reader(second).read()
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) == 20
    assert mock.logins == 1


def test_retry_after_http_date_is_measured_against_the_response_date() -> None:
    """RFC 9110 §10.2.3: an HTTP-date, relative to the upstream's own Date header."""
    sent = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)
    response = httpx.Response(
        429,
        headers={
            "Date": format_datetime(sent, usegmt=True),
            "Retry-After": format_datetime(sent + timedelta(seconds=90), usegmt=True),
        },
    )
    assert retry_after_seconds(response) == 90
    assert retry_after_seconds(httpx.Response(429, headers={"Retry-After": "7"})) == 7
    assert retry_after_seconds(httpx.Response(429, headers={"Retry-After": "soon"})) is None


def test_absurd_retry_after_is_clamped(broker_app: Any, mock: Any) -> None:
    """A Retry-After of years is clamped to the documented maximum."""
    app = broker_app(broker_max_retry_after=600)
    add_connection(app, mock, method="oauth2")
    mock.set(retry_after=str(10**9))
    mock.fail("429")
    response = Reader(app).read()
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) == 600


def test_backoff_counts_from_when_the_failure_is_known(broker_app: Any, clock: Any) -> None:
    """A failed call that took longer than the backoff still leaves the backoff in force."""
    app = broker_app(broker_backoff_base=1.0)
    calls = []

    def slow_failure(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        clock.advance(2.0)  # the call takes 2 s; the backoff is 1 s
        return httpx.Response(503)

    broker = services(app).broker
    broker._client = httpx.Client(transport=httpx.MockTransport(slow_failure))
    add_connection(app, _Upstream(), method="oauth2")
    reader = Reader(app)
    assert reader.read().status_code == 503
    second = reader.read()  # right after: within the backoff counted from the failure
    assert second.status_code == 503
    assert len(calls) == 1
    assert math.ceil(float(second.headers["Retry-After"])) == 1


class _Upstream:
    """Stands in for the mock where the transport is faked (credentials only)."""

    base_url = "http://upstream.invalid"

    class state:  # noqa: N801 - mirrors MockInfobip.state
        username = client_id = "client"
        password = client_secret = "secret"  # noqa: S105 - a test fixture


@pytest.mark.parametrize("sent_as", ["number", "string"])
def test_absurd_expires_in_is_clamped_and_cached(
    broker_app: Any, mock: Any, clock: Any, sent_as: str
) -> None:
    """A lifetime of 10^12 s is clamped to the maximum; reads are 200 and served from cache."""
    app = broker_app(broker_max_lifetime=3600)
    mock.set(lifetime=10**12, expires_in=sent_as)
    add_connection(app, mock, method="oauth2")
    reader = Reader(app)
    first = reader.read()
    assert first.status_code == 200, first.get_json()
    expires_at = datetime.fromisoformat(first.get_json()["expires_at"]).timestamp()
    assert expires_at <= clock() + 3600 + 1
    for _ in range(3):
        clock.advance(10)
        assert reader.read().status_code == 200
    assert mock.logins == 1
