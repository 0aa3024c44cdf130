"""Fixtures and action helpers for the broker tests: the mock upstream, a fake clock, readers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from identity.devtools.mock_infobip import MockInfobip
from identity.extensions import services
from identity.services.upstream import NewConnection
from tests.conftest import access_token, bearer

BROKER_SETTINGS: dict[str, Any] = {
    "broker_jitter": 0.0,
    "broker_connect_timeout": 1.0,
    "broker_read_timeout": 1.0,
    "broker_lock_timeout": 10.0,
}


class FakeClock:
    """Epoch seconds that move only when told to (starts at the real time)."""

    def __init__(self) -> None:
        self.now = time.time()
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


@pytest.fixture
def mock() -> Iterator[MockInfobip]:
    with MockInfobip() as server:
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def broker_app(make_app: Any, clock: FakeClock) -> Iterator[Callable[..., Flask]]:
    """``make_app`` whose brokers use the fake clock and have their httpx clients closed."""
    apps: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        app: Flask = make_app(**{**BROKER_SETTINGS, **overrides})
        services(app).broker.clock = clock
        apps.append(app)
        return app

    yield factory
    for app in apps:
        services(app).broker.close()


def add_connection(
    app: Flask, mock: MockInfobip, name: str = "sms", method: str = "ibsso", **fields: Any
) -> None:
    """Create a connection pointing at the mock, with the mock's credentials by default."""
    defaults: dict[str, Any] = {
        "ibsso": {"username": mock.state.username, "secret": mock.state.password},
        "oauth2": {"client_id": mock.state.client_id, "secret": mock.state.client_secret},
    }.get(method, {})
    new = NewConnection(name=name, base_url=mock.base_url, method=method, **{**defaults, **fields})
    with app.app_context():
        services().upstream.add(new)


class Reader:
    """A caller holding an ``upstream:read`` access token."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.headers = bearer(access_token(app, "upstream:read"))

    def read(self, name: str = "sms") -> Any:
        with self.app.test_client() as client:
            return client.get(f"/upstream/connections/{name}/authorization", headers=self.headers)

    def invalidate(self, name: str = "sms", header: str | None = None) -> Any:
        body = {"authorization": header} if header is not None else None
        with self.app.test_client() as client:
            url = f"/upstream/connections/{name}/invalidate"
            return client.post(url, headers=self.headers, json=body)


def concurrently(count: int, action: Callable[[int], Any]) -> list[Any]:
    """Run ``action(i)`` in ``count`` threads released at once; results in order."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = action(index)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
    return results
