"""The hot path answers exactly as the Flask views would, and hands everything else to them.

Each request is sent twice: through the app (hot path in front) and straight to the Flask
WSGI app behind it. Status, headers (but the request id and length), body members and token
claims must agree; a spy counts which requests reached Flask.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from flask import Flask
from werkzeug.test import Client
from werkzeug.wrappers import Response

from identity.http.gate import BodyGate
from identity.http.hotpath import HotPath
from tests import broker_helpers
from tests.broker_helpers import add_connection
from tests.conftest import access_token, api_key, bearer
from tests.customers_helpers import create_customer, customer_token
from tests.partners_helpers import basic, make_client

broker_app = broker_helpers.broker_app  # fixtures
clock = broker_helpers.clock
mock = broker_helpers.mock
VARYING_HEADERS = {"X-Request-Id", "Content-Length"}
VARYING_CLAIMS = {"iat", "exp", "jti"}


class FlaskSpy:
    """Wraps the Flask WSGI app behind the hot path and counts the requests it receives."""

    def __init__(self, hot: HotPath) -> None:
        self.inner = hot.next
        self.calls = 0
        hot.next = self

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        self.calls += 1
        return self.inner(environ, start_response)


@pytest.fixture
def spy(app: Flask) -> FlaskSpy:
    assert isinstance(app.wsgi_app, BodyGate)  # the body gate wraps everything
    assert isinstance(app.wsgi_app.wsgi_app, HotPath)
    return FlaskSpy(app.wsgi_app.wsgi_app)


def both_ways(app: Flask, spy: FlaskSpy, **request: Any) -> tuple[Response, Response]:
    """(hot path answer, Flask view answer) for the same request."""
    hot = Client(app.wsgi_app, Response).open(**request)
    view = Client(spy.inner, Response).open(**request)
    return hot, view


def token_of(body: dict[str, Any]) -> str:
    return str(body.get("access_token") or body["token"])


def assert_same(hot: Response, view: Response) -> None:
    assert hot.status_code == view.status_code == 200, (hot.get_json(), view.get_json())
    strip = lambda r: sorted((k, v) for k, v in r.headers if k not in VARYING_HEADERS)  # noqa: E731
    assert strip(hot) == strip(view)
    hot_body, view_body = hot.get_json(), view.get_json()
    assert list(hot_body) == list(view_body)  # same members in the same order
    assert hot.data.endswith(b"\n") == view.data.endswith(b"\n")  # jsonify's newline
    hot_token, view_token = token_of(hot_body), token_of(view_body)
    assert jwt.get_unverified_header(hot_token) == jwt.get_unverified_header(view_token)
    hot_claims = jwt.decode(hot_token, options={"verify_signature": False})
    view_claims = jwt.decode(view_token, options={"verify_signature": False})
    assert set(hot_claims) == set(view_claims)
    for name in set(hot_claims) - VARYING_CLAIMS:
        assert hot_claims[name] == view_claims[name], name
    for name in set(hot_body) - {"access_token", "token"}:
        assert hot_body[name] == view_body[name], name


def form(**params: str) -> dict[str, Any]:
    return {"method": "POST", "data": params}


@pytest.mark.parametrize("path", ["/access_token", "/oauth/token"])
@pytest.mark.parametrize("scope", [None, "profile:read", "upstream:read profile:read"])
def test_client_secret_basic_matches_the_view(
    app: Flask, spy: FlaskSpy, path: str, scope: str | None
) -> None:
    client = make_client(app, "profile:read upstream:read")
    params = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    hot, view = both_ways(
        app, spy, path=path, headers=basic(client.client_id, client.client_secret), **form(**params)
    )
    assert_same(hot, view)
    assert spy.calls == 0  # the first answer never reached Flask
    assert hot.get_json()["scope"] == (scope or "profile:read upstream:read")


def test_client_secret_post_matches_the_view(app: Flask, spy: FlaskSpy) -> None:
    client = make_client(app)
    params = form(
        grant_type="client_credentials",
        client_id=client.client_id,
        client_secret=client.client_secret,
    )
    hot, view = both_ways(app, spy, path="/access_token", **params)
    assert_same(hot, view)
    assert spy.calls == 0


def test_partner_inbox_token_matches_the_view(app: Flask, spy: FlaskSpy) -> None:
    key = api_key(app, "inbox:issue")
    for headers in ({"X-API-Key": key}, {"Authorization": f"App {key}"}):
        hot, view = both_ways(
            app,
            spy,
            path="/v1/inbox/tokens",
            method="POST",
            json={"identifier": "user-7"},
            headers=headers,
        )
        assert_same(hot, view)
    assert spy.calls == 0
    claims = jwt.decode(hot.get_json()["token"], options={"verify_signature": False})
    assert set(claims) == {"sub", "apiKey", "iat", "exp"} and claims["sub"] == "user:user-7"


def test_customer_inbox_token_matches_the_view(app: Flask, client: Any, spy: FlaskSpy) -> None:
    create_customer(app)
    token = customer_token(client)
    calls = spy.calls  # the login went through Flask
    hot, view = both_ways(
        app, spy, path="/inbox/token", method="POST", headers={"Authorization": f"Bearer {token}"}
    )
    assert_same(hot, view)
    assert spy.calls == calls


def test_request_id_is_echoed(app: Flask, spy: FlaskSpy) -> None:
    client = make_client(app)
    response = Client(app.wsgi_app, Response).post(
        "/access_token",
        data={"grant_type": "client_credentials"},
        headers={**basic(client.client_id, client.client_secret), "X-Request-Id": "abc-123"},
    )
    assert response.status_code == 200 and response.headers["X-Request-Id"] == "abc-123"
    assert spy.calls == 0


def _basic_raw(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("wrong secret", 401),
        ("scope beyond the client's", 400),
        ("json body", 200),
        ("client_id beside Basic", 200),
        ("unknown grant", 400),
        ("repeated parameter", 400),
    ],
)
def test_anything_else_reaches_the_view(app: Flask, spy: FlaskSpy, case: str, status: int) -> None:
    client = make_client(app)
    good = basic(client.client_id, client.client_secret)
    request: dict[str, Any] = {
        "wrong secret": dict(
            headers=_basic_raw(client.client_id, "nope"), **form(grant_type="client_credentials")
        ),
        "scope beyond the client's": dict(
            headers=good, **form(grant_type="client_credentials", scope="admin")
        ),
        "json body": dict(headers=good, method="POST", json={"grant_type": "client_credentials"}),
        "client_id beside Basic": dict(
            headers=good, **form(grant_type="client_credentials", client_id=client.client_id)
        ),
        "unknown grant": dict(headers=good, **form(grant_type="password")),
        "repeated parameter": dict(
            headers={**good, "Content-Type": "application/x-www-form-urlencoded"},
            method="POST",
            data="grant_type=client_credentials&grant_type=client_credentials",
        ),
    }[case]
    response = Client(app.wsgi_app, Response).open(path="/access_token", **request)
    assert response.status_code == status, response.get_json()
    assert spy.calls == 1  # answered by the view, with its error shape when it is an error


def test_cookie_mode_and_cross_origin_requests_reach_the_view(
    app: Flask, client: Any, spy: FlaskSpy
) -> None:
    create_customer(app)
    token = customer_token(client)
    calls = spy.calls
    http = Client(app.wsgi_app, Response)
    response = http.post(
        "/inbox/token",
        headers={"Authorization": f"Bearer {token}", "Origin": "https://evil.example"},
    )
    assert response.status_code == 200  # Bearer needs no origin check; the view answered it
    assert spy.calls == calls + 1
    http.set_cookie("customer_session", token)
    response = http.post("/inbox/token")
    assert response.status_code == 403  # cookie without an allowed origin: the view refuses
    assert spy.calls == calls + 2


def test_hot_path_can_be_switched_off(make_app: Callable[..., Flask]) -> None:
    assert not isinstance(make_app(hot_path=False).wsgi_app.wsgi_app, HotPath)


def test_cached_upstream_read_matches_the_view(broker_app: Any, mock: Any) -> None:
    app = broker_app()
    spy = FlaskSpy(app.wsgi_app.wsgi_app)  # inside the body gate
    add_connection(app, mock)
    url = "/upstream/connections/sms/authorization"
    token = bearer(access_token(app, "upstream:read"))
    first = Client(app.wsgi_app, Response).get(url, headers=token)
    assert first.status_code == 200 and spy.calls == 1  # a miss: the view logged in upstream
    hot, view = both_ways(app, spy, path=url, method="GET", headers=token)
    assert spy.calls == 1  # the hit was answered in front of Flask
    assert hot.status_code == view.status_code == 200
    strip = lambda r: sorted((k, v) for k, v in r.headers if k != "X-Request-Id")  # noqa: E731
    assert strip(hot) == strip(view)
    assert hot.data == view.data == first.data  # byte for byte, the same cached header
    assert mock.logins == 1
    wrong_scope = bearer(access_token(app, "profile:read"))
    assert Client(app.wsgi_app, Response).get(url, headers=wrong_scope).status_code == 403
    unknown = Client(app.wsgi_app, Response).get(
        "/upstream/connections/nope/authorization", headers=token
    )
    assert unknown.status_code == 404 and spy.calls == 3  # both answered by the view


def test_a_chunked_body_reaches_the_view_intact(app: Flask, spy: FlaskSpy) -> None:
    client = make_client(app)
    body = b"grant_type=client_credentials"
    response = Client(app.wsgi_app, Response).post(
        "/access_token",
        input_stream=io.BytesIO(body),
        headers={
            **basic(client.client_id, client.client_secret),
            "Content-Type": "application/x-www-form-urlencoded",
            "Transfer-Encoding": "chunked",
        },
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["token_type"] == "Bearer"
    assert spy.calls == 0  # the body gate buffered the whole body, so the hot path had it all


def test_x_api_key_beside_another_scheme_is_answered_like_the_view(
    app: Flask, spy: FlaskSpy
) -> None:
    key = api_key(app, "inbox:issue")
    hot, view = both_ways(
        app,
        spy,
        path="/v1/inbox/tokens",
        method="POST",
        json={"identifier": "user-8"},
        headers={"X-API-Key": key, "Authorization": "Bearer not-an-api-key"},
    )
    assert_same(hot, view)
    assert spy.calls == 0  # the same credential rule as the view (security.api_key_from)
