"""Exchange-signed calls: POST /exchange/hooks/customer-lookup (X-Ib-Exchange-Req-Signature)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask

from identity.extensions import services
from tests.conftest import service_error
from tests.exchange_helpers import SIGNING_SECRET, dumps, exchange_headers

URL = "/exchange/hooks/customer-lookup"
EMAIL = "jane@example.com"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"exchange_signing_secret": SIGNING_SECRET}


@pytest.fixture
def customer_id(app: Flask) -> str:
    with app.app_context():
        return str(services().customers.create("jane", "pw-1234567", email=EMAIL).customer_id)


def post(client: Any, body: bytes, headers: dict[str, str]) -> Any:
    return client.post(URL, data=body, headers=headers)


def assert_unauthorized(response: Any) -> None:
    assert response.status_code == 401, response.get_data(as_text=True)
    assert service_error(response)["messageId"] == "UNAUTHORIZED"


def test_lookup_returns_customer_id(client: Any, customer_id: str) -> None:
    """A correctly signed lookup answers the customer's opaque ID."""
    body = dumps({"email": EMAIL})
    response = post(client, body, exchange_headers(body))
    assert response.status_code == 200
    assert response.get_json() == {"customer_id": customer_id}


def test_unknown_email_is_404(client: Any, customer_id: str) -> None:
    """No customer with that email: 404 NOT_FOUND."""
    body = dumps({"email": "nobody@example.com"})
    response = post(client, body, exchange_headers(body))
    assert response.status_code == 404
    assert service_error(response)["messageId"] == "NOT_FOUND"


def test_signature_checked_before_body(client: Any) -> None:
    """An unsigned malformed body is 401, not 400: nothing is parsed before verification."""
    assert_unauthorized(post(client, b"{not json", {"Content-Type": "application/json"}))


def test_signed_bad_body_is_400(client: Any) -> None:
    """A signed body that is not the expected JSON is a 400 with validationErrors."""
    body = dumps({"mail": EMAIL})
    response = post(client, body, exchange_headers(body))
    assert response.status_code == 400
    assert "email" in service_error(response)["validationErrors"]


def test_reserialised_body_refused(client: Any, customer_id: str) -> None:
    """The signature covers the raw bytes: the same JSON with other spacing is refused."""
    signed = dumps({"email": EMAIL})
    assert_unauthorized(
        post(client, b'{"email": "' + EMAIL.encode() + b'"}', exchange_headers(signed))
    )


@pytest.mark.parametrize("skew_ms", [-301_000, 301_000])
def test_stale_and_future_timestamps_refused(client: Any, customer_id: str, skew_ms: int) -> None:
    """Timestamps beyond ±5 minutes are refused even with a correct signature."""
    body = dumps({"email": EMAIL})
    headers = exchange_headers(body, timestamp_ms=int(time.time() * 1000) + skew_ms)
    assert_unauthorized(post(client, body, headers))


def test_replay_refused(client: Any, customer_id: str) -> None:
    """The same signed request twice: the second is refused."""
    body = dumps({"email": EMAIL})
    headers = exchange_headers(body)
    assert post(client, body, headers).status_code == 200
    assert_unauthorized(post(client, body, headers))


def test_replay_refused_on_another_instance(make_app: Any, customer_id: str) -> None:
    """Replay protection is shared: instance B refuses what instance A accepted."""
    first, second = make_app(), make_app()
    body = dumps({"email": EMAIL})
    headers = exchange_headers(body)
    assert post(first.test_client(), body, headers).status_code == 200
    assert_unauthorized(post(second.test_client(), body, headers))


def test_uppercase_hex_refused(client: Any, customer_id: str) -> None:
    """Upper-case hex of the right digest is refused: Exchange documents lowercase."""
    body = dumps({"email": EMAIL})
    headers = exchange_headers(body)
    headers["X-Ib-Exchange-Req-Signature"] = headers["X-Ib-Exchange-Req-Signature"].upper()
    assert_unauthorized(post(client, body, headers))


@pytest.mark.parametrize(
    "missing",
    ["X-Ib-Exchange-Req-Signature", "X-Ib-Exchange-Req-Timestamp", "X-Ib-Exchange-Req-AccountKey"],
)
def test_missing_header_refused(client: Any, customer_id: str, missing: str) -> None:
    """Each of the three Exchange headers is required."""
    body = dumps({"email": EMAIL})
    headers = exchange_headers(body)
    del headers[missing]
    assert_unauthorized(post(client, body, headers))


def test_wrong_secret_refused(client: Any, customer_id: str) -> None:
    """A signature made with another secret is refused."""
    body = dumps({"email": EMAIL})
    assert_unauthorized(post(client, body, exchange_headers(body, secret="another-secret")))


def test_unconfigured_secret_refuses_everything(make_app: Any) -> None:
    """No signing secret configured: every call is 401 (fail closed)."""
    app = make_app(exchange_signing_secret="")
    body = dumps({"email": EMAIL})
    assert_unauthorized(post(app.test_client(), body, exchange_headers(body, secret="")))


def test_lookup_ignores_email_case(client: Any, customer_id: str) -> None:
    """Emails match case-insensitively (as mail systems treat them in practice)."""
    body = dumps({"email": EMAIL.upper()})
    response = post(client, body, exchange_headers(body))
    assert response.get_json() == {"customer_id": customer_id}
