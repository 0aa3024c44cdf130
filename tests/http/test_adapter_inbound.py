"""POST /adapter/inbound: X-Hub-Signature: sha1= signed messages, or ?access_token= mode."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from identity.models import InboundMessage
from identity.models.base import db
from tests.conftest import service_error
from tests.exchange_helpers import ADAPTER_TOKEN, HUB_SECRET, dumps, hub_headers

URL = "/adapter/inbound"
MESSAGE = {
    "object": "page",
    "entry": [{"id": "237129", "time": "1564561788"}],
    "messaging": [
        {
            "sender": {"id": "+639054680168"},
            "recipient": {"id": "237129"},
            "timestamp": "1564561788",
            "message": {"text": "foo"},
        }
    ],
}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"hub_app_secret": HUB_SECRET, "adapter_access_token": ADAPTER_TOKEN}


def recorded(app: Flask) -> list[InboundMessage]:
    with app.app_context():
        return list(db.session.scalars(select(InboundMessage)))


def assert_unauthorized(response: Any) -> None:
    assert response.status_code == 401, response.get_data(as_text=True)
    assert service_error(response)["messageId"] == "UNAUTHORIZED"


def test_signed_message_recorded_verbatim(app: Flask, client: Any) -> None:
    """A sha1-signed message is stored byte for byte, with its sender."""
    body = b'{ "object": "page",  "messaging": [{"sender": {"id": "+639054680168"}}] }'
    response = client.post(URL, data=body, headers=hub_headers(body))
    assert response.status_code == 200
    assert response.get_json()["auth"] == "signature"
    [message] = recorded(app)
    assert (message.id, message.source) == (response.get_json()["id"], "adapter")
    assert message.sender == "+639054680168" and message.body == body.decode()


@pytest.mark.parametrize(
    "header",
    [
        "sha256={sha256}",  # other algorithm
        "{sha1}",  # no prefix
        "sha1={sha1_upper}",
        "sha1=",
    ],
)
def test_wrong_signature_forms_refused(app: Flask, client: Any, header: str) -> None:
    """Only sha1=<lowercase hex> is accepted; nothing is recorded otherwise."""
    body = dumps(MESSAGE)
    sha1 = hmac.new(HUB_SECRET.encode(), body, hashlib.sha1).hexdigest()
    sha256 = hmac.new(HUB_SECRET.encode(), body, hashlib.sha256).hexdigest()
    value = header.format(sha1=sha1, sha256=sha256, sha1_upper=sha1.upper())
    headers = {"Content-Type": "application/json", "X-Hub-Signature": value}
    assert_unauthorized(client.post(URL, data=body, headers=headers))
    assert recorded(app) == []


def test_missing_signature_refused(client: Any) -> None:
    """No X-Hub-Signature and no access token: 401."""
    assert_unauthorized(client.post(URL, json=MESSAGE))


def test_other_header_name_not_accepted(client: Any) -> None:
    """X-Hub-Signature-256 (another platform's header) does not stand in for X-Hub-Signature."""
    body = dumps(MESSAGE)
    digest = hmac.new(HUB_SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}
    assert_unauthorized(client.post(URL, data=body, headers=headers))


def test_tampered_body_refused(client: Any) -> None:
    """A signature over other bytes is refused."""
    body = dumps(MESSAGE)
    assert_unauthorized(client.post(URL, data=body + b" ", headers=hub_headers(body)))


def test_replay_refused(app: Flask, client: Any) -> None:
    """The same signed message twice is recorded once."""
    body = dumps(MESSAGE)
    assert client.post(URL, data=body, headers=hub_headers(body)).status_code == 200
    assert_unauthorized(client.post(URL, data=body, headers=hub_headers(body)))
    assert len(recorded(app)) == 1


def test_access_token_mode(app: Flask, client: Any) -> None:
    """?access_token=<configured token> is accepted; a wrong one is refused."""
    ok = client.post(f"{URL}?access_token={ADAPTER_TOKEN}", json=MESSAGE)
    assert ok.status_code == 200 and ok.get_json()["auth"] == "access_token"
    assert_unauthorized(client.post(f"{URL}?access_token=wrong", json=MESSAGE))
    assert_unauthorized(client.post(f"{URL}?access_token=", json=MESSAGE))
    assert len(recorded(app)) == 1


def test_access_token_mode_off_when_unconfigured(make_app: Any) -> None:
    """Without IDENTITY_ADAPTER_ACCESS_TOKEN the query parameter grants nothing."""
    app = make_app(adapter_access_token="")
    assert_unauthorized(app.test_client().post(f"{URL}?access_token=", json=MESSAGE))


def test_signed_non_json_is_400(client: Any) -> None:
    """A correctly signed body that is not JSON: 400, never 500."""
    body = b"not json"
    response = client.post(URL, data=body, headers=hub_headers(body))
    assert response.status_code == 400
