"""POST /getprofile: access token and API key, both with profile:read; three ways to name
the customer (docs/partners.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from identity.extensions import services
from identity.models import ApiKey
from identity.models.base import db
from tests.conftest import access_token, api_key, bearer, service_error

PROFILE = {
    "name": "Alice Example",
    "email": "alice@example.test",
    "phone": "+385911234567",
    "locale": "hr-HR",
    "attributes": {"tier": "gold", "since": 2020},
}


@pytest.fixture
def customer(app: Flask) -> dict[str, str]:
    """A customer with a full profile, and a customer token for them."""
    with app.app_context():
        row = services().customers.create("alice", "correct horse", **PROFILE)
        token = services().tokens.issue_customer_token(row.customer_id).token
        return {"customer_id": row.customer_id, "token": token}


@pytest.fixture
def credentials(app: Flask) -> dict[str, str]:
    return {
        **bearer(access_token(app, "profile:read")),
        "X-API-Key": api_key(app, "profile:read"),
    }


def assert_profile(response: Any, customer_id: str) -> None:
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"customer_id": customer_id, "profile": PROFILE}


def test_named_by_header(
    client: FlaskClient, customer: dict[str, str], credentials: dict[str, str]
) -> None:
    """X-Customer-Id names the customer; the whole profile comes back."""
    headers = {**credentials, "X-Customer-Id": customer["customer_id"]}
    assert_profile(client.post("/getprofile", headers=headers), customer["customer_id"])


def test_named_by_body_customer_id(
    client: FlaskClient, customer: dict[str, str], credentials: dict[str, str]
) -> None:
    """``{"customer_id": ...}`` names the customer."""
    response = client.post(
        "/getprofile", headers=credentials, json={"customer_id": customer["customer_id"]}
    )
    assert_profile(response, customer["customer_id"])


def test_named_by_customer_token(
    client: FlaskClient, customer: dict[str, str], credentials: dict[str, str]
) -> None:
    """``{"customer_token": <customer JWT>}`` names the customer by its ``sub``."""
    response = client.post(
        "/getprofile", headers=credentials, json={"customer_token": customer["token"]}
    )
    assert_profile(response, customer["customer_id"])


def test_oauth_scheme_and_app_scheme_are_accepted(
    app: Flask, client: FlaskClient, customer: dict[str, str]
) -> None:
    """``Authorization: OAuth <token>`` works; the API key may come as ``App`` elsewhere."""
    headers = {
        "Authorization": f"OAuth {access_token(app, 'profile:read')}",
        "X-API-Key": api_key(app, "profile:read"),
        "X-Customer-Id": customer["customer_id"],
    }
    assert_profile(client.post("/getprofile", headers=headers), customer["customer_id"])


@pytest.mark.parametrize("missing", ["Authorization", "X-API-Key"])
def test_each_credential_missing_is_401(
    client: FlaskClient, customer: dict[str, str], credentials: dict[str, str], missing: str
) -> None:
    """Without the access token, or without the API key: 401 with a challenge."""
    headers = {k: v for k, v in credentials.items() if k != missing}
    headers["X-Customer-Id"] = customer["customer_id"]
    response = client.post("/getprofile", headers=headers)
    assert response.status_code == 401
    assert service_error(response)["messageId"] == "UNAUTHORIZED"
    assert "WWW-Authenticate" in response.headers


@pytest.mark.parametrize("weak", ["access", "api_key"])
def test_credential_without_profile_read_is_403(
    app: Flask, client: FlaskClient, customer: dict[str, str], weak: str
) -> None:
    """Either credential lacking profile:read is 403 FORBIDDEN."""
    headers = {
        **bearer(access_token(app, "inbox:issue" if weak == "access" else "profile:read")),
        "X-API-Key": api_key(app, "inbox:issue" if weak == "api_key" else "profile:read"),
        "X-Customer-Id": customer["customer_id"],
    }
    response = client.post("/getprofile", headers=headers)
    assert response.status_code == 403
    assert service_error(response)["messageId"] == "FORBIDDEN"


def test_app_scheme_key_cannot_stand_in_for_the_access_token(
    app: Flask, client: FlaskClient, customer: dict[str, str]
) -> None:
    """``Authorization: App <key>`` is an API key, never an access token: 401 without one."""
    headers = {"Authorization": f"App {api_key(app, 'profile:read')}"}
    response = client.post("/getprofile", headers=headers, json=customer)
    # One Authorization header cannot carry both: the access token is missing.
    assert response.status_code == 401
    assert service_error(response)["text"] == "Access token required"


def test_unknown_customer_is_404(client: FlaskClient, credentials: dict[str, str]) -> None:
    """A customer ID nobody has is 404 NOT_FOUND."""
    response = client.post("/getprofile", headers=credentials, json={"customer_id": "c1_nobody"})
    assert response.status_code == 404
    assert service_error(response)["messageId"] == "NOT_FOUND"


@pytest.mark.parametrize("named", ["none", "two"])
def test_customer_named_zero_or_two_ways_is_400(
    client: FlaskClient, customer: dict[str, str], credentials: dict[str, str], named: str
) -> None:
    """Exactly one way to name the customer: none or several is 400 with validationErrors."""
    body = {} if named == "none" else {"customer_id": customer["customer_id"]}
    headers = credentials if named == "none" else {**credentials, "X-Customer-Id": "c1_other"}
    response = client.post("/getprofile", headers=headers, json=body)
    assert response.status_code == 400
    assert "customer_id" in service_error(response)["validationErrors"]


def test_invalid_customer_token_is_401(
    app: Flask, client: FlaskClient, credentials: dict[str, str]
) -> None:
    """A forged or wrong-kind customer token (here an access token) is 401."""
    response = client.post(
        "/getprofile",
        headers=credentials,
        json={"customer_token": access_token(app, "profile:read")},
    )
    assert response.status_code == 401


def test_expired_and_revoked_api_keys_are_refused(
    app: Flask, client: FlaskClient, customer: dict[str, str]
) -> None:
    """An API key past its expiry, or revoked, is 401; before that it works."""
    expiring = api_key(app, "profile:read", expires_in=3600)
    revoked = api_key(app, "profile:read")
    headers = {
        **bearer(access_token(app, "profile:read")),
        "X-Customer-Id": customer["customer_id"],
    }
    for key in (expiring, revoked):
        assert client.post("/getprofile", headers={**headers, "X-API-Key": key}).status_code == 200
    with app.app_context():
        row = db.session.scalar(db.select(ApiKey).where(ApiKey.lookup == expiring[4:16]))
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
        revoked_row = db.session.scalar(db.select(ApiKey).where(ApiKey.lookup == revoked[4:16]))
        services().api_keys.revoke(revoked_row.id)
    for key in (expiring, revoked):
        response = client.post("/getprofile", headers={**headers, "X-API-Key": key})
        assert response.status_code == 401
        assert service_error(response)["messageId"] == "UNAUTHORIZED"


def test_disabled_customer_is_404(
    app: Flask, client: FlaskClient, customer: dict[str, str], credentials: dict[str, str]
) -> None:
    """A disabled account's profile is not served."""
    with app.app_context():
        row = services().customers.by_customer_id(customer["customer_id"])
        row.disabled = True
        db.session.commit()
    response = client.post(
        "/getprofile", headers=credentials, json={"customer_id": customer["customer_id"]}
    )
    assert response.status_code == 404


def test_customer_id_with_control_characters_is_404(
    client: FlaskClient, credentials: dict[str, str]
) -> None:
    """A control character in the customer ID is an unknown customer, not a 500; U+0000 is
    refused when the JSON body is read (400, the field named)."""
    response = client.post("/getprofile", headers=credentials, json={"customer_id": "c1_\x01x"})
    assert response.status_code == 404
    response = client.post("/getprofile", headers=credentials, json={"customer_id": "c1_\x00x"})
    assert response.status_code == 400
    assert "customer_id" in service_error(response)["validationErrors"]
