"""The mock upstream itself: credentials, knobs and call counters."""

from __future__ import annotations

import httpx
import pytest

from identity.devtools.mock_infobip import MockInfobip, create_mock_app


def test_sessions_are_created_destroyed_and_counted() -> None:
    """IBSSO login with the configured credentials, logout, counters per endpoint."""
    with MockInfobip(lifetime=60) as mock, httpx.Client(base_url=mock.base_url) as client:
        bad = client.post("/auth/1/session", json={"username": "user", "password": "nope"})
        assert bad.status_code == 401
        token = client.post("/auth/1/session", json={"username": "user", "password": "pass"})
        session = token.json()["token"]
        assert mock.state.valid_sessions() == [session]
        gone = client.delete("/auth/1/session", headers={"Authorization": f"IBSSO {session}"})
        assert gone.status_code == 204
        assert mock.state.destroyed == [session]
        assert mock.calls == {"POST /auth/1/session": 2, "DELETE /auth/1/session": 1}


def test_failure_knob_applies_to_the_next_n_calls() -> None:
    """``fail("500", times=1)`` fails one call, then the mock answers normally."""
    form = {"client_id": "client", "client_secret": "secret", "grant_type": "client_credentials"}
    with MockInfobip(expires_in="string") as mock, httpx.Client(base_url=mock.base_url) as client:
        mock.fail("500", times=1)
        assert client.post("/auth/1/oauth2/token", data=form).status_code == 500
        ok = client.post("/auth/1/oauth2/token", data=form).json()
        assert ok["expires_in"] == "3600"
        assert mock.logins == 2


def test_unknown_knobs_are_refused() -> None:
    """A typo in a knob name is an error, not a silent no-op."""
    with pytest.raises(TypeError):
        create_mock_app(lifetme=5)
    with pytest.raises(ValueError):
        create_mock_app(failure="boom")
