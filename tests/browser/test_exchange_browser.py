"""/exchange/configure in a third-party iframe, driven in real headless Chromium (Playwright).

Origins: the app and the mock Exchange on ``http://127.0.0.1:<port>``, the portal pages on
``http://localhost:<port>`` (another site, so the iframe is truly third-party). Chromium treats
both loopback hosts as secure contexts, so the ``SameSite=None; Secure; Partitioned`` cookies
work over plain http and no certificate is needed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from identity.models import AppSetting, ExchangeAccount
from identity.models.base import db
from tests.exchange_helpers import ACCOUNT_KEY, CLIENT_ID, MockExchangeServer, ServedApp

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _require_chromium() -> Any:
    """Playwright's sync API, or a skip (a failure when CI=true)."""
    try:
        from playwright import sync_api
    except ImportError:
        sync_api = None
    if sync_api is None or not shutil.which(CHROMIUM):
        reason = "headless Chromium (Debian `chromium` + playwright) is not installed"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and {reason}; `make browser-deps` installs it")
        pytest.skip(reason)
    return sync_api


class LateApp:
    """A WSGI callable bound before the app exists (the app's issuer needs the port)."""

    app: Callable[..., Any] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        assert self.app is not None
        return self.app(environ, start_response)


def portal_page(frame_src: str) -> Callable[..., Any]:
    """A parent page that frames ``frame_src``, as the Exchange portal does."""
    html = (
        '<!doctype html><html lang="en"><title>Portal</title><h1>Portal</h1>'
        f'<iframe id="app" title="App configuration" src="{frame_src}" '
        'width="900" height="900"></iframe></html>'
    ).encode()

    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response(
            "200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(html)))]
        )
        return [html]

    return wsgi


@pytest.fixture
def servers(make_app: Any) -> Iterator[dict[str, Any]]:
    mock = MockExchangeServer()
    late = LateApp()
    served = ServedApp(late)
    allowed = disallowed = None
    try:
        configure = f"{served.base_url}/exchange/configure?state=WeHH_yy2irpl8UY"
        allowed = ServedApp(portal_page(configure), host="localhost")
        disallowed = ServedApp(portal_page(configure), host="localhost")
        app = make_app(
            issuer=served.base_url,
            exchange_base_url=mock.base_url,
            exchange_client_id=CLIENT_ID,
            exchange_portal_origins=(allowed.base_url,),
        )
        late.app = app.wsgi_app
        yield {"app": app, "allowed": allowed, "disallowed": disallowed, "mock": mock}
    finally:
        for server in (disallowed, allowed, served, mock):
            if server is not None:
                server.stop()


def test_configure_in_portal_iframe(servers: dict[str, Any]) -> None:
    """Connect inside the iframe, see "Connected as ...", save a setting; others cannot frame."""
    sync_api = _require_chromium()
    OUTPUT.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page()
            page.set_default_timeout(10_000)
            page.goto(servers["allowed"].base_url)
            frame = page.frame_locator("#app")
            frame.get_by_role("heading", name="Not connected").wait_for()
            frame.get_by_role("link", name="Connect").click()
            frame.get_by_role("heading", name="Connected as developeruser").wait_for()
            frame.get_by_label("Default sender ID").fill("InfoSMS")
            frame.get_by_label("Partner API key").fill("partner-secret-value")
            frame.get_by_role("button", name="Save settings").click()
            frame.get_by_text("Settings saved.").wait_for()
            assert frame.get_by_label("Default sender ID").input_value() == "InfoSMS"
            assert frame.get_by_label("Partner API key").input_value() == ""
            page.screenshot(path=str(OUTPUT / "exchange-configure-allowed.png"), full_page=True)

            other = browser.new_page()
            with other.expect_console_message(lambda m: "frame-ancestors" in m.text) as refused:
                other.goto(servers["disallowed"].base_url)
            assert servers["allowed"].base_url in refused.value.text  # the policy it violated
            assert "Infobip account connection" not in other.frames[1].content()
            other.screenshot(path=str(OUTPUT / "exchange-configure-disallowed.png"))
        finally:
            browser.close()

    assert servers["mock"].state.calls == ["authorize", "token"]
    with servers["app"].app_context():
        assert db.session.get(ExchangeAccount, ACCOUNT_KEY) is not None
        rows = {r.name: r for r in db.session.scalars(select(AppSetting))}
        assert rows["sender"].value == "InfoSMS"
        assert rows["partner_api_key"].is_secret
        assert "partner-secret-value" not in rows["partner_api_key"].value
