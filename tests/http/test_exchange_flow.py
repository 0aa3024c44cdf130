"""The Exchange authorization-code + PKCE flow against the mock authorization server over HTTP."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from flask import Flask
from sqlalchemy import func, select

from identity.crypto.secretbox import SecretBox
from identity.extensions import services
from identity.models import ExchangeAccount, OAuthState, UpstreamConnection
from identity.models.base import db
from tests.conftest import access_token, bearer, service_error
from tests.exchange_helpers import (
    ACCOUNT_KEY,
    CLIENT_ID,
    MockExchangeServer,
    authorize,
    connect,
    path_of,
    query_of,
)


@pytest.fixture
def mock() -> Iterator[MockExchangeServer]:
    server = MockExchangeServer()
    yield server
    server.stop()


@pytest.fixture
def settings_overrides(mock: MockExchangeServer) -> dict[str, Any]:
    return {"exchange_base_url": mock.base_url, "exchange_client_id": CLIENT_ID}


def accounts(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(ExchangeAccount)) or 0)


def stored_token(app: Flask) -> str:
    with app.app_context():
        account = db.session.get(ExchangeAccount, ACCOUNT_KEY)
        assert account is not None
        return SecretBox(services(app).settings.encryption_keys).open(account.token_sealed)


def test_connect_redirects_to_authorize_with_pkce(client: Any, mock: MockExchangeServer) -> None:
    """/exchange/connect sends every §6 parameter, PKCE S256, and a bound browser cookie."""
    response = client.get("/exchange/connect?state=WeHH_yy2irpl8UY")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(f"{mock.base_url}/exchange/1/oauth/authorize?")
    params = query_of(location)
    assert params["response_type"] == "code"
    assert params["client_id"] == CLIENT_ID
    assert params["state"] == "WeHH_yy2irpl8UY"
    assert params["redirect_uri"] == "http://identity.test/exchange/callback"
    assert params["scope"] == "api_read"
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43  # base64url SHA-256, no padding
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=None" in cookie


def test_generated_state_when_iframe_passes_none(client: Any) -> None:
    """Without an iframe state a random one is generated, different per flow."""
    first = query_of(client.get("/exchange/connect").headers["Location"])["state"]
    second = query_of(client.get("/exchange/connect").headers["Location"])["state"]
    assert len(first) >= 32 and first != second


def test_flow_stores_sealed_token_and_connection(
    app: Flask, client: Any, mock: MockExchangeServer
) -> None:
    """A completed flow stores the account with its token sealed and the broker connection."""
    response = connect(client, state="WeHH_yy2irpl8UY")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/exchange/configure")
    assert mock.state.calls == ["authorize", "token"]
    issued = mock.state.tokens[-1]
    assert stored_token(app) == issued
    with app.app_context():
        account = db.session.get(ExchangeAccount, ACCOUNT_KEY)
        assert account is not None and issued not in account.token_sealed
        assert (account.username, account.user_key) == (
            "developeruser",
            mock.state.account["userKey"],
        )
        assert [r["name"] for r in account.roles] == ["Manager", "Designer"]
        assert account.groups == [{"id": 54004, "name": "Group1"}]
        assert account.token_type == "IBSSO"
        lifetime = account.expires_at - account.connected_at
        assert timedelta(seconds=3590) < lifetime <= timedelta(seconds=3600)
        connection = db.session.scalar(
            select(UpstreamConnection).where(UpstreamConnection.account_key == ACCOUNT_KEY)
        )
        assert connection is not None
        assert connection.name == f"exchange-{ACCOUNT_KEY.lower()}"
        assert (connection.method, connection.base_url) == ("exchange", mock.base_url)


def test_reconnect_replaces_token(app: Flask, client: Any, mock: MockExchangeServer) -> None:
    """Connecting again updates the one account row and the one connection."""
    assert connect(client).status_code == 303
    assert connect(client).status_code == 303
    assert stored_token(app) == mock.state.tokens[-1] != mock.state.tokens[0]
    with app.app_context():
        names = db.session.scalars(select(UpstreamConnection.name)).all()
    assert accounts(app) == 1 and names.count(f"exchange-{ACCOUNT_KEY.lower()}") == 1


def test_confidential_client_sends_secret(make_app: Any, mock: MockExchangeServer) -> None:
    """With a client secret configured the mock requires it; a wrong one stores nothing."""
    mock.state.client_secret = "YED8Q0KHeYgQxtjdUkR376Uxu0/zdvwAVZb3ZQ3GGZU="
    good = make_app(exchange_client_secret=mock.state.client_secret)
    assert connect(good.test_client()).status_code == 303
    bad = make_app(exchange_client_secret="not-the-secret")
    response = connect(bad.test_client())
    assert response.status_code == 400
    assert "code_rejected" in response.get_data(as_text=True)
    assert mock.state.calls.count("token") == 2


def test_wrong_state_refused(app: Flask, client: Any, mock: MockExchangeServer) -> None:
    """A state this service never issued is refused before the code is exchanged."""
    callback = authorize(client)
    code = query_of(callback)["code"]
    response = client.get(f"/exchange/callback?code={code}&state=never-issued-state")
    assert response.status_code == 400
    assert "bad_state" in response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    assert "token" not in mock.state.calls and accounts(app) == 0


def test_state_reused_refused(app: Flask, client: Any, mock: MockExchangeServer) -> None:
    """A state works once: the same callback again is refused, no second token request."""
    callback = authorize(client)
    assert client.get(path_of(callback)).status_code == 303
    again = client.get(path_of(callback))
    assert again.status_code == 400
    assert "state_used" in again.get_data(as_text=True)
    assert mock.state.calls.count("token") == 1


def test_state_from_another_browser_refused(
    app: Flask, client: Any, mock: MockExchangeServer
) -> None:
    """A callback arriving in another browser is refused and does not burn the state."""
    callback = authorize(client)
    other = app.test_client()
    response = other.get(path_of(callback))
    assert response.status_code == 400
    assert "foreign_state" in response.get_data(as_text=True)
    assert accounts(app) == 0 and "token" not in mock.state.calls
    assert client.get(path_of(callback)).status_code == 303  # the right browser still can


def test_expired_state_refused(app: Flask, client: Any, mock: MockExchangeServer) -> None:
    """States expire after ten minutes."""
    callback = authorize(client)
    with app.app_context():
        for row in db.session.scalars(select(OAuthState)):
            row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
    response = client.get(path_of(callback))
    assert response.status_code == 400 and accounts(app) == 0


def test_code_replay_refused(app: Flask, client: Any, mock: MockExchangeServer) -> None:
    """An authorization code works once: replayed with a fresh state it changes nothing."""
    first = authorize(client)
    assert client.get(path_of(first)).status_code == 303
    token_before = stored_token(app)
    second_state = query_of(authorize(client))["state"]
    replay = f"/exchange/callback?code={query_of(first)['code']}&state={second_state}"
    response = client.get(replay)
    assert response.status_code == 400
    assert "code_rejected" in response.get_data(as_text=True)
    assert stored_token(app) == token_before
    assert mock.state.calls.count("token") == 2


def test_pkce_verifier_mismatch_refused(app: Flask, client: Any, mock: MockExchangeServer) -> None:
    """A code bound to another challenge (tampered authorize URL) is refused at the token step."""
    authorize_url = client.get("/exchange/connect").headers["Location"]
    params = query_of(authorize_url)
    params["code_challenge"] = create_s256_code_challenge("an-attacker-verifier-" + "x" * 30)
    answer = httpx.get(authorize_url.split("?")[0], params=params, follow_redirects=False)
    response = client.get(path_of(answer.headers["Location"]))
    assert response.status_code == 400
    assert "code_rejected" in response.get_data(as_text=True)
    assert mock.state.calls.count("token") == 1 and accounts(app) == 0


def test_access_denied(
    app: Flask, client: Any, mock: MockExchangeServer, caplog: pytest.LogCaptureFixture
) -> None:
    """error=access_denied shows a clear 403 page, stores nothing, logs, and burns the state."""
    mock.state.deny = True
    callback = authorize(client)
    assert query_of(callback)["error"] == "access_denied"
    with caplog.at_level(logging.WARNING, logger="identity.http.exchange"):
        response = client.get(path_of(callback))
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "Access was denied on Infobip" in page and "Nothing was stored" in page
    assert (
        "frame-ancestors https://portal.infobip.com" in response.headers["Content-Security-Policy"]
    )
    assert any("access_denied" in r.getMessage() for r in caplog.records)
    assert "token" not in mock.state.calls and accounts(app) == 0
    with app.app_context():
        assert db.session.scalars(select(OAuthState.used_at)).one() is not None


def test_expired_code_refused(app: Flask, client: Any, mock: MockExchangeServer) -> None:
    """Codes expire (the mock keeps Exchange's one minute; here zero seconds)."""
    mock.state.code_ttl = 0
    response = connect(client)
    assert response.status_code == 400 and accounts(app) == 0


def test_authorization_server_down(app: Flask, client: Any, mock: MockExchangeServer) -> None:
    """The token endpoint unreachable: a 502 page, nothing stored."""
    callback = authorize(client)
    mock.stop()
    response = client.get(path_of(callback))
    assert response.status_code == 502
    assert "upstream_unavailable" in response.get_data(as_text=True)
    assert accounts(app) == 0


def test_malformed_callback_input_never_500(client: Any) -> None:
    """Missing code or state, or odd characters, give a 4xx page."""
    for query in ("", "?code=abc", "?state=%00%ff", "?code=x&state=" + "s" * 500, "?error=weird"):
        assert client.get("/exchange/callback" + query).status_code == 400
    assert client.get("/exchange/connect?state=%3Cscript%3E").status_code == 400


def broker_url() -> str:
    return f"/upstream/connections/exchange-{ACCOUNT_KEY.lower()}/authorization"


def test_broker_serves_exchange_token_until_expiry(
    app: Flask, make_app: Any, client: Any, mock: MockExchangeServer
) -> None:
    """End to end: the broker serves the connected token as IBSSO, then 409 with reconnect_url."""
    assert connect(client).status_code == 303
    url = broker_url()
    headers = bearer(access_token(app, "upstream:read"))
    served = client.get(url, headers=headers)
    assert served.status_code == 200, served.get_json()
    assert served.get_json()["authorization"] == f"IBSSO {mock.state.tokens[-1]}"
    assert served.get_json()["token_type"] == "IBSSO"
    with app.app_context():
        account = db.session.get(ExchangeAccount, ACCOUNT_KEY)
        account.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
    later = make_app()  # another instance, past the expiry (no in-process cache of its own)
    expired = later.test_client().get(url, headers=headers)
    assert expired.status_code == 409
    error = service_error(expired)
    assert error["messageId"] == "CONFLICT"
    assert "/exchange/connect" in error["reconnect_url"]


def test_reconnect_reaches_the_broker_at_once(
    app: Flask, client: Any, mock: MockExchangeServer
) -> None:
    """After a reconnect this instance's broker serves the new token, not its cached one."""
    assert connect(client).status_code == 303
    headers = bearer(access_token(app, "upstream:read"))
    first = client.get(broker_url(), headers=headers).get_json()["authorization"]
    assert connect(client).status_code == 303
    second = client.get(broker_url(), headers=headers).get_json()["authorization"]
    assert first == f"IBSSO {mock.state.tokens[0]}"
    assert second == f"IBSSO {mock.state.tokens[1]}"


@pytest.mark.parametrize("state", ["xyz", "a", "s" * 128])
def test_connect_accepts_the_portals_short_state(
    client: Any, mock: MockExchangeServer, state: str
) -> None:
    """Infobip's example ``state=xyz`` is accepted and passed on as is (bounded, URL-safe)."""
    response = client.get(f"/exchange/connect?state={state}")
    assert response.status_code == 302
    assert query_of(response.headers["Location"])["state"] == state


@pytest.mark.parametrize("state", ["s" * 129, "a%00b", "a%20b", "%3Cx%3E"])
def test_connect_refuses_unsafe_or_overlong_state(client: Any, state: str) -> None:
    """Beyond 128 characters, or not URL-safe: 400."""
    assert client.get(f"/exchange/connect?state={state}").status_code == 400
