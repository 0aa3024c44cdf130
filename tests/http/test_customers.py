"""Customer login, sessions, refresh, logout (docs/customers-and-inbox.md): token and cookie."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from identity.extensions import services
from identity.models import Customer, CustomerSession
from identity.models.base import db
from identity.models.types import utcnow
from tests.conftest import bearer, service_error
from tests.customers_helpers import (
    ORIGIN,
    PASSWORD,
    claims_of,
    create_customer,
    customer_token,
    login,
)

HTTPS = "https://localhost"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"allowed_origins": (ORIGIN,)}


@pytest.fixture
def alice(app: Flask) -> dict[str, Any]:
    return create_customer(app, "Alice")


def test_login_token_mode_shape_and_claims(
    app: Flask, client: FlaskClient, alice: dict[str, Any]
) -> None:
    """200 with the §2 body; the token is a customer JWT whose sub is the customer ID."""
    response = login(client, "alice")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == {"access_token", "token_type", "expires_in", "customer_id"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["customer_id"] == alice["customer_id"]
    claims = claims_of(body["access_token"])
    assert set(claims) == {"iss", "sub", "aud", "iat", "exp", "jti", "sid"}
    assert claims["sub"] == alice["customer_id"]
    assert claims["aud"] == "http://identity.test/customer"
    assert claims["iss"] == "http://identity.test"
    assert claims["exp"] - claims["iat"] == 900
    with app.app_context():
        assert (
            services().tokens.verify_customer_token(body["access_token"])["sub"]
            == (alice["customer_id"])
        )
        assert db.session.get(CustomerSession, claims["sid"]) is not None


def test_login_normalises_the_username(client: FlaskClient, alice: dict[str, Any]) -> None:
    """NFKC + case folding at lookup: full-width and upper-case forms log in as alice."""
    assert login(client, "ＡＬＩＣＥ").status_code == 200
    assert login(client, "ALICE").get_json()["customer_id"] == alice["customer_id"]


@pytest.mark.parametrize(
    "username,password",
    [("alice", "wrong password"), ("nobody", PASSWORD), ("nobody", "wrong password")],
)
def test_wrong_username_or_password_is_the_same_401(
    client: FlaskClient, alice: dict[str, Any], username: str, password: str
) -> None:
    """Unknown user and wrong password get byte-identical 401 bodies."""
    response = login(client, username, password)
    assert response.status_code == 401
    assert service_error(response) == {
        "messageId": "UNAUTHORIZED",
        "text": "Invalid login details",
    }


class SpyHasher:
    """Delegates to the real hasher and records the hashes ``verify`` is asked about."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.verified: list[str] = []

    def verify(self, stored: str, password: str) -> bool:
        self.verified.append(stored)
        return bool(self.real.verify(stored, password))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_unknown_user_is_hashed_against_a_dummy(
    app: Flask, client: FlaskClient, alice: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unknown username costs one argon2 verification (of a dummy), like a wrong password."""
    customers = services(app).customers
    spy = SpyHasher(customers.hasher)
    monkeypatch.setattr(customers, "hasher", spy)
    login(client, "nobody", "x")
    login(client, "alice", "x")
    assert len(spy.verified) == 2
    assert spy.verified[0].startswith("$argon2id$") and spy.verified[0] != spy.verified[1]


def test_disabled_customer_cannot_log_in(
    app: Flask, client: FlaskClient, alice: dict[str, Any]
) -> None:
    """A disabled account gets the same 401 as a wrong password, even with the right one."""
    with app.app_context():
        customers = services().customers
        customers.disable(customers.by_username("alice"))
    response = login(client, "alice")
    assert response.status_code == 401
    assert service_error(response)["text"] == "Invalid login details"


def test_login_rehashes_when_parameters_change(
    make_app: Any, app: Flask, alice: dict[str, Any]
) -> None:
    """After the argon2 parameters change, the next successful login stores a new hash."""
    stronger = make_app(argon2_time_cost=2)
    assert login(stronger.test_client(), "alice").status_code == 200
    with stronger.app_context():
        stored = db.session.get(Customer, alice["id"]).password_hash
    assert "$m=8,t=2,p=1$" in stored
    assert login(app.test_client(), "alice").status_code == 200  # the new hash still verifies


@pytest.mark.parametrize(
    "body,field",
    [
        ({"password": PASSWORD}, "username"),
        ({"username": "alice"}, "password"),
        ({"username": "alice", "password": PASSWORD, "session": "jar"}, "session"),
        ({"username": 5, "password": PASSWORD}, "username"),
        ({"username": "alice", "password": "x" * 1025}, "password"),
    ],
)
def test_bad_login_bodies_are_400(client: FlaskClient, body: dict[str, Any], field: str) -> None:
    """Malformed bodies are 400 BAD_REQUEST naming the field, never 401 or 500."""
    response = client.post("/customer_authenticate", json=body)
    assert response.status_code == 400
    assert field in service_error(response)["validationErrors"]


def test_refresh_issues_a_new_token_and_denies_the_old(
    client: FlaskClient, alice: dict[str, Any]
) -> None:
    """Refresh: same sid and sub, new jti; the old token is refused from then on."""
    old = customer_token(client)
    response = client.post("/customer_authenticate/refresh", headers=bearer(old))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == {"access_token", "token_type", "expires_in", "customer_id"}
    new, before = claims_of(body["access_token"]), claims_of(old)
    assert new["sid"] == before["sid"] and new["sub"] == before["sub"]
    assert new["jti"] != before["jti"]
    assert client.post("/inbox/token", headers=bearer(old)).status_code == 401
    again = client.post("/customer_authenticate/refresh", headers=bearer(old))
    assert again.status_code == 401
    assert client.post("/inbox/token", headers=bearer(body["access_token"])).status_code == 200


def test_refresh_stops_at_the_absolute_session_limit(
    app: Flask, client: FlaskClient, alice: dict[str, Any]
) -> None:
    """Tokens never outlive the session; once it has passed its limit, refresh is 401."""
    token = customer_token(client)
    sid = claims_of(token)["sid"]
    with app.app_context():
        session = db.session.get(CustomerSession, sid)
        session.expires_at = utcnow() + timedelta(seconds=120)
        db.session.commit()
    response = client.post("/customer_authenticate/refresh", headers=bearer(token))
    assert response.status_code == 200
    capped = response.get_json()
    assert 110 <= capped["expires_in"] <= 120
    assert claims_of(capped["access_token"])["exp"] - claims_of(token)["iat"] <= 121
    with app.app_context():
        session = db.session.get(CustomerSession, sid)
        session.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    refused = client.post("/customer_authenticate/refresh", headers=bearer(capped["access_token"]))
    assert refused.status_code == 401


def test_session_limit_setting_caps_the_first_token(make_app: Any) -> None:
    """With a session limit shorter than the token lifetime, the token ends with the session."""
    app = make_app(customer_session_max=300)
    create_customer(app, "alice")
    body = login(app.test_client(), "alice").get_json()
    assert 295 <= body["expires_in"] <= 300


def test_logout_refuses_the_token_everywhere(
    make_app: Any, app: Flask, client: FlaskClient, alice: dict[str, Any]
) -> None:
    """After logout the token is refused by refresh, inbox and a second instance."""
    token = customer_token(client)
    response = client.post("/customer_logout", headers=bearer(token))
    assert response.status_code == 204
    assert response.get_data() == b""
    other = make_app().test_client()
    assert other.post("/inbox/token", headers=bearer(token)).status_code == 401
    assert client.post("/customer_authenticate/refresh", headers=bearer(token)).status_code == 401
    assert client.post("/customer_logout", headers=bearer(token)).status_code == 401
    with app.app_context():
        session = db.session.get(CustomerSession, claims_of(token)["sid"])
        assert session.revoked_at is not None


def test_disabling_ends_open_sessions(
    app: Flask, client: FlaskClient, alice: dict[str, Any]
) -> None:
    """A token issued before the account was disabled stops working at once."""
    token = customer_token(client)
    with app.app_context():
        customers = services().customers
        customers.disable(customers.by_username("alice"))
    assert client.post("/inbox/token", headers=bearer(token)).status_code == 401


@pytest.mark.parametrize("path", ["/customer_authenticate/refresh", "/customer_logout"])
def test_customer_endpoints_need_a_token(client: FlaskClient, path: str) -> None:
    """No token: 401 with a Bearer challenge; garbage: 401."""
    response = client.post(path)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.post(path, headers=bearer("not.a.jwt")).status_code == 401


# --- cookie mode -------------------------------------------------------------------------------
def cookie_login(client: FlaskClient) -> Any:
    return client.post(
        "/customer_authenticate",
        json={"username": "alice", "password": PASSWORD, "session": "cookie"},
        base_url=HTTPS,
    )


def test_cookie_mode_sets_a_strict_cookie(client: FlaskClient, alice: dict[str, Any]) -> None:
    """The token goes into an HttpOnly, Secure, SameSite=Strict cookie; the body has no token."""
    response = cookie_login(client)
    assert response.status_code == 200
    assert response.get_json() == {"customer_id": alice["customer_id"], "expires_in": 900}
    header = response.headers["Set-Cookie"]
    for attribute in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/"):
        assert attribute in header
    cookie = client.get_cookie("customer_session", domain="localhost")
    assert cookie is not None
    assert claims_of(cookie.value)["sub"] == alice["customer_id"]


def test_cookie_requests_need_an_allowed_origin(client: FlaskClient, alice: dict[str, Any]) -> None:
    """State-changing cookie requests without an allowed Origin/Referer are 403."""
    cookie_login(client)
    for headers in ({}, {"Origin": "https://evil.example"}, {"Origin": "null"}):
        response = client.post("/inbox/token", headers=headers, base_url=HTTPS)
        assert response.status_code == 403, headers
        assert service_error(response)["messageId"] == "FORBIDDEN"
    assert client.post("/customer_logout", base_url=HTTPS).status_code == 403
    assert client.post("/customer_authenticate/refresh", base_url=HTTPS).status_code == 403
    referer = {"Referer": f"{ORIGIN}/inbox"}
    assert client.post("/inbox/token", headers=referer, base_url=HTTPS).status_code == 200


def test_cookie_refresh_and_logout(client: FlaskClient, alice: dict[str, Any]) -> None:
    """Refresh replaces the cookie; logout clears it and refuses the token."""
    cookie_login(client)
    first = client.get_cookie("customer_session", domain="localhost").value
    origin = {"Origin": ORIGIN}
    refreshed = client.post("/customer_authenticate/refresh", headers=origin, base_url=HTTPS)
    assert refreshed.status_code == 200
    assert set(refreshed.get_json()) == {"customer_id", "expires_in"}
    second = client.get_cookie("customer_session", domain="localhost").value
    assert second != first
    assert client.post("/customer_logout", headers=origin, base_url=HTTPS).status_code == 204
    assert client.get_cookie("customer_session", domain="localhost") is None
    assert client.post("/inbox/token", headers=bearer(second)).status_code == 401


def test_cross_site_cookie_login_is_refused(client: FlaskClient, alice: dict[str, Any]) -> None:
    """A cookie-mode login from a foreign origin is 403 (login CSRF); no cookie is set."""
    response = client.post(
        "/customer_authenticate",
        json={"username": "alice", "password": PASSWORD, "session": "cookie"},
        headers={"Origin": "https://evil.example"},
        base_url=HTTPS,
    )
    assert response.status_code == 403
    assert "Set-Cookie" not in response.headers


# --- CORS --------------------------------------------------------------------------------------
def test_cors_is_off_by_default(client: FlaskClient, alice: dict[str, Any]) -> None:
    """Without configured CORS origins no Access-Control header is sent."""
    response = login(client)
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = client.options("/customer_authenticate", headers={"Origin": ORIGIN})
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_cors_for_configured_origins(make_app: Any) -> None:
    """Configured frontend origins get credentialed CORS headers and a preflight answer."""
    app = make_app(cors_origins=(ORIGIN,))
    client = app.test_client()
    preflight = client.options(
        "/inbox/token",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert preflight.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    failed = client.post(
        "/customer_authenticate",
        json={"username": "x", "password": "y"},
        headers={"Origin": ORIGIN},
    )
    assert failed.headers["Access-Control-Allow-Origin"] == ORIGIN
    other = client.post(
        "/customer_authenticate", json={}, headers={"Origin": "https://evil.example"}
    )
    assert "Access-Control-Allow-Origin" not in other.headers


@pytest.mark.parametrize("username", ["a\x00b", "\x00"])
def test_nul_in_a_username_is_refused_when_read(client: FlaskClient, username: str) -> None:
    """U+0000 (PostgreSQL cannot hold it) breaks the JSON reading rules: 400, field named."""
    response = login(client, username, "whatever")
    assert response.status_code == 400
    assert "username" in service_error(response)["validationErrors"]


@pytest.mark.parametrize("username", ["a\x01b", "x" * 1024, "\u200b", " "])
def test_odd_usernames_are_a_plain_401(client: FlaskClient, username: str) -> None:
    """Control characters, overlong or blank-after-normalising names: 401, not 500."""
    response = login(client, username, "whatever")
    assert response.status_code == 401
    assert service_error(response)["text"] == "Invalid login details"


def test_malformed_json_is_400(client: FlaskClient) -> None:
    """A broken JSON body is 400 BAD_REQUEST."""
    response = client.post(
        "/customer_authenticate", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert service_error(response)["messageId"] == "BAD_REQUEST"
