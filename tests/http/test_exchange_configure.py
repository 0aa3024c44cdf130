"""/exchange/configure: status, Connect, app settings (CSRF, secrets sealed), frame policy."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from identity.extensions import services
from identity.models import AppSetting
from identity.models.base import db
from tests.exchange_helpers import ACCOUNT_KEY, CLIENT_ID, MockExchangeServer, connect

PORTAL = "https://portal.infobip.com"
SECRET_VALUE = "partner-key-do-not-echo-0123456789"


@pytest.fixture
def mock() -> Iterator[MockExchangeServer]:
    server = MockExchangeServer()
    yield server
    server.stop()


@pytest.fixture
def settings_overrides(mock: MockExchangeServer) -> dict[str, Any]:
    return {
        "exchange_base_url": mock.base_url,
        "exchange_client_id": CLIENT_ID,
        "exchange_portal_origins": (PORTAL, "https://portal-ny2.infobip.com"),
    }


def csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


@pytest.fixture
def connected(client: Any) -> Any:
    assert connect(client).status_code == 303
    return client


def test_not_connected_page(client: Any) -> None:
    """A fresh browser sees "Not connected" and a Connect link carrying the iframe's state."""
    response = client.get("/exchange/configure?state=WeHH_yy2irpl8UY")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "Not connected" in page and "Connected as" not in page
    assert 'href="/exchange/connect?state=WeHH_yy2irpl8UY"' in page
    assert "csrf_token" not in page  # no settings form without an account


def test_frame_ancestors_are_the_portal_origins(client: Any) -> None:
    """Only the configured portal origins may frame the page; no X-Frame-Options veto."""
    response = client.get("/exchange/configure")
    policy = response.headers["Content-Security-Policy"]
    assert f"frame-ancestors {PORTAL} https://portal-ny2.infobip.com;" in policy
    assert "X-Frame-Options" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_json_endpoints_not_framable(client: Any) -> None:
    """The signed hook endpoints answer with frame-ancestors 'none'."""
    response = client.post("/exchange/hooks/customer-lookup", json={"email": "a@example.com"})
    assert response.headers["Content-Security-Policy"] == "frame-ancestors 'none'"


def test_connected_page_shows_account(connected: Any) -> None:
    """After the flow the page says as whom, since when, with which roles."""
    page = connected.get("/exchange/configure").get_data(as_text=True)
    assert "Connected as developeruser" in page
    assert ACCOUNT_KEY in page and "Manager, Designer" in page
    assert "Connected since" in page and ">Reconnect<" in page


def test_save_settings_seals_secret_and_never_echoes(app: Flask, connected: Any) -> None:
    """Settings are stored per account; the secret one sealed and never shown again."""
    page = connected.get("/exchange/configure").get_data(as_text=True)
    form = {
        "csrf_token": csrf(page),
        "sender": "InfoSMS",
        "notify_url": "https://example.com/hook",
        "partner_api_key": SECRET_VALUE,
    }
    saved = connected.post("/exchange/configure", data=form)
    assert saved.status_code == 303 and saved.headers["Location"].endswith("saved=1")
    page = connected.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Settings saved." in page and 'value="InfoSMS"' in page
    assert SECRET_VALUE not in page and "A value is stored" in page
    with app.app_context():
        rows = {r.name: r for r in db.session.scalars(select(AppSetting))}
        assert {r.account_key for r in rows.values()} == {ACCOUNT_KEY}
        assert rows["sender"].value == "InfoSMS" and not rows["sender"].is_secret
        assert (
            rows["partner_api_key"].is_secret and SECRET_VALUE not in rows["partner_api_key"].value
        )
        assert services().exchange.secret_setting(ACCOUNT_KEY, "partner_api_key") == SECRET_VALUE


def test_blank_secret_keeps_stored_value(app: Flask, connected: Any) -> None:
    """Submitting the form without retyping the secret keeps it; a blank plain field clears."""
    token = csrf(connected.get("/exchange/configure").get_data(as_text=True))
    connected.post(
        "/exchange/configure",
        data={"csrf_token": token, "sender": "A", "partner_api_key": SECRET_VALUE},
    )
    connected.post(
        "/exchange/configure", data={"csrf_token": token, "sender": "", "partner_api_key": ""}
    )
    with app.app_context():
        names = set(db.session.scalars(select(AppSetting.name)))
        assert names == {"partner_api_key"}
        assert services().exchange.secret_setting(ACCOUNT_KEY, "partner_api_key") == SECRET_VALUE


@pytest.mark.parametrize("token", ["", "forged-token", None])
def test_csrf_required(app: Flask, connected: Any, token: str | None) -> None:
    """A post without the page's CSRF token is refused with 403 and stores nothing."""
    data = {"sender": "evil"} | ({"csrf_token": token} if token is not None else {})
    response = connected.post("/exchange/configure", data=data)
    assert response.status_code == 403
    assert "csrf" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(AppSetting)).all() == []


def test_post_without_account_refused(app: Flask, client: Any) -> None:
    """A browser that never connected cannot save settings."""
    response = client.post("/exchange/configure", data={"csrf_token": "x", "sender": "evil"})
    assert response.status_code == 403


def test_too_long_setting_refused(app: Flask, connected: Any) -> None:
    """Over-long values are a 400 page, never a 500, and nothing is stored."""
    token = csrf(connected.get("/exchange/configure").get_data(as_text=True))
    response = connected.post("/exchange/configure", data={"csrf_token": token, "sender": "x" * 65})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalars(select(AppSetting)).all() == []


def test_account_cookie_is_signed(client: Any, connected: Any) -> None:
    """A tampered account cookie is ignored: the page shows "Not connected"."""
    cookie = connected.get_cookie("identity_exchange_account", path="/exchange")
    assert cookie is not None
    connected.set_cookie("identity_exchange_account", cookie.value[:-2] + "xx", path="/exchange")
    assert "Not connected" in connected.get("/exchange/configure").get_data(as_text=True)
