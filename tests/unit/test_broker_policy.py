"""The broker's pure policy and its upstream edge (httpx.MockTransport, no server)."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest

from identity.broker import upstream
from identity.broker.model import BrokerPolicy, ConnectionSpec, Token
from identity.errors import UpstreamUnauthorized, UpstreamUnavailable

POLICY = BrokerPolicy(refresh_fraction=0.8, refresh_margin=300, jitter=0.0)
SPEC = ConnectionSpec("c", "oauth2", "https://up.test", client_id="id", secret="sec")


@pytest.mark.parametrize(
    ("lifetime", "expected"),
    [
        (3600, 2880),  # 80 % comes first
        (1000, 700),  # 5 min before expiry comes first
        (600, 480),  # the margin would land on the half-life: the 80 % rule only
        (60, 48),
    ],
)
def test_refresh_time_is_the_earlier_of_fraction_and_margin(lifetime: int, expected: int) -> None:
    """min(80 % of the lifetime, 5 min before expiry), the margin ignored for short tokens."""
    assert POLICY.refresh_at(1000.0, lifetime, random.Random(0)) == 1000.0 + expected


def test_jitter_only_moves_the_refresh_earlier() -> None:
    """Jitter subtracts up to ``jitter`` × lifetime; never later than the rule."""
    policy = BrokerPolicy(jitter=0.1)
    times = {policy.refresh_at(0.0, 1000, random.Random(seed)) for seed in range(20)}
    assert all(600 <= t <= 700 for t in times) and len(times) > 1


def test_backoff_doubles_and_is_capped() -> None:
    """1, 2, 4, 8 ... seconds, never above the maximum."""
    policy = BrokerPolicy(backoff_base=1.0, backoff_max=10.0)
    assert [policy.backoff(n) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]


def test_a_token_is_not_usable_in_its_last_seconds() -> None:
    """A token is never handed out within its grace period before expiry."""
    token = Token("Bearer", "t", obtained_at=0, expires_at=100, refresh_at=80)
    assert token.fresh(79) and not token.fresh(80)
    assert token.usable(94) and not token.usable(95)
    assert repr(token).count("'t'") == 0


def _client(handler: Any) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, b"{}", UpstreamUnauthorized),
        (403, b"{}", UpstreamUnauthorized),
        (400, b'{"error": "invalid_client"}', UpstreamUnauthorized),
        (500, b"{}", UpstreamUnavailable),
        (200, b"<html>", UpstreamUnavailable),
        (200, b'{"expires_in": 5}', UpstreamUnavailable),
    ],
)
def test_upstream_answers_are_translated(status: int, body: bytes, error: type) -> None:
    """401/403/invalid_client → unauthorized; 5xx, garbage, no token → unavailable."""
    with _client(lambda request: httpx.Response(status, content=body)) as client:
        with pytest.raises(error):
            upstream.oauth2_token(client, SPEC, POLICY)


def test_transport_errors_are_unavailable_without_leaking_details() -> None:
    """A refused connection becomes UpstreamUnavailable with a generic text."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused: secret=sec", request=request)

    with _client(refuse) as client, pytest.raises(UpstreamUnavailable) as caught:
        upstream.oauth2_token(client, SPEC, POLICY)
    assert "sec" not in caught.value.text and caught.value.__cause__ is None


def test_oauth2_sends_a_client_credentials_form() -> None:
    """RFC 6749 §4.4 form body; a configured lifetime caps ``expires_in``."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"access_token": "at", "expires_in": "7200"})

    spec = ConnectionSpec("c", "oauth2", "https://up.test", client_id="id", secret="s", lifetime=60)
    with _client(answer) as client:
        fetched = upstream.oauth2_token(client, spec, POLICY)
    assert (fetched.value, fetched.lifetime) == ("at", 60)
    assert seen[0].url.path == "/auth/1/oauth2/token"
    form = dict(httpx.QueryParams(seen[0].content.decode()))
    assert form == {"client_id": "id", "client_secret": "s", "grant_type": "client_credentials"}
