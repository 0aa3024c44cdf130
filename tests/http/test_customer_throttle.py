"""Brute-force protection of POST /customer_authenticate: 429 + Retry-After, then recovery."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from identity.extensions import services
from tests.conftest import service_error
from tests.customers_helpers import PASSWORD, create_customer, login

WINDOW = 2


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"login_max_failures": 3, "login_max_failures_per_address": 5, "login_window": WINDOW}


@pytest.fixture
def alice(app: Flask) -> dict[str, Any]:
    return create_customer(app, "alice")


def fail(
    client: FlaskClient, times: int, username: str = "alice", address: str = "10.0.0.1"
) -> None:
    for _ in range(times):
        assert login(client, username, "wrong", address).status_code == 401


def test_username_limit_gives_429_even_with_the_right_password(
    client: FlaskClient, alice: dict[str, Any]
) -> None:
    """Past the per-username limit: 429 with Retry-After, whatever the password or address."""
    fail(client, 3)
    response = login(client, "alice", PASSWORD, "10.0.0.2")
    assert response.status_code == 429
    assert service_error(response)["messageId"] == "TOO_MANY_REQUESTS"
    assert 1 <= int(response.headers["Retry-After"]) <= WINDOW
    assert login(client, "ALICE", PASSWORD, "10.0.0.3").status_code == 429  # normalised key


def test_address_limit_covers_every_username(client: FlaskClient, alice: dict[str, Any]) -> None:
    """Failures spread over many usernames from one address reach the per-address limit."""
    for index in range(5):
        fail(client, 1, f"user{index}", "10.0.0.9")
    blocked = login(client, "alice", PASSWORD, "10.0.0.9")
    assert blocked.status_code == 429
    assert "Retry-After" in blocked.headers
    assert login(client, "alice", PASSWORD, "10.0.0.10").status_code == 200


def test_success_resets_the_username_count(client: FlaskClient, alice: dict[str, Any]) -> None:
    """A successful login forgets earlier failures of that username."""
    fail(client, 2)
    assert login(client, "alice", PASSWORD, "10.0.0.1").status_code == 200
    fail(client, 2)
    assert login(client, "alice", PASSWORD, "10.0.0.1").status_code == 200


def test_recovers_after_the_window(client: FlaskClient, alice: dict[str, Any]) -> None:
    """Once the window has passed, the right password logs in again."""
    fail(client, 3)
    assert login(client, "alice", PASSWORD).status_code == 429
    time.sleep(WINDOW + 1.1)
    assert login(client, "alice", PASSWORD).status_code == 200


def test_instances_share_the_count_with_redis(
    make_app: Any, app: Flask, alice: dict[str, Any]
) -> None:
    """With Redis, failures counted by one instance block the username on another."""
    other = make_app()
    if services(app).shared.backend != "redis":
        pytest.skip("counters are per process without Redis (documented)")
    fail(app.test_client(), 3)
    assert login(other.test_client(), "alice", PASSWORD).status_code == 429
