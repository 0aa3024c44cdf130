"""The mock Exchange authorization server behaves as Infobip documents it."""

from __future__ import annotations

import re
from typing import Any

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from flask import Flask

from identity.devtools import mock_exchange
from tests.exchange_helpers import query_of

VERIFIER = "v" * 43
REDIRECT = "https://app.example/cb"


def mock_app(**knobs: Any) -> Flask:
    app = Flask("mock")
    app.register_blueprint(mock_exchange.exchange_bp)
    mock_exchange.configure(app, client_id="cid", **knobs)
    return app


def code_for(client: Any, challenge: str | None = create_s256_code_challenge(VERIFIER)) -> str:
    params = {"response_type": "code", "client_id": "cid", "redirect_uri": REDIRECT, "state": "s"}
    if challenge:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    location = client.get("/exchange/1/oauth/authorize", query_string=params).headers["Location"]
    assert location.startswith(REDIRECT) and query_of(location)["state"] == "s"
    return query_of(location)["code"]


def redeem(client: Any, code: str, **extra: str) -> Any:
    form = {"grant_type": "authorization_code", "client_id": "cid", "code": code}
    form |= {"redirect_uri": REDIRECT, "code_verifier": VERIFIER} | extra
    return client.post("/exchange/1/oauth/token", data=form)


def test_code_is_16_hex_and_single_use() -> None:
    """Codes are 16 lowercase hex characters and work once."""
    client = mock_app().test_client()
    code = code_for(client)
    assert re.fullmatch(r"[0-9a-f]{16}", code)
    first = redeem(client, code)
    assert first.status_code == 200
    assert {"token", "tokenType", "accountKey", "userKey", "username", "roles"} <= set(first.json)
    assert redeem(client, code).json["error"] == "invalid_grant"


def test_pkce_and_secret_checked() -> None:
    """A wrong verifier is invalid_grant; with a secret configured a wrong one is invalid_client."""
    client = mock_app().test_client()
    assert redeem(client, code_for(client), code_verifier="w" * 43).status_code == 400
    secret_client = mock_app(client_secret="s3cret").test_client()
    assert redeem(secret_client, code_for(secret_client), client_secret="nope").status_code == 401
    assert redeem(secret_client, code_for(secret_client), client_secret="s3cret").status_code == 200


def test_public_client_needs_pkce() -> None:
    """Without a client secret a code issued without a challenge cannot be redeemed."""
    client = mock_app().test_client()
    code = code_for(client, challenge=None)
    response = redeem(client, code, code_verifier="")
    assert response.status_code == 400


def test_deny_knob_and_instances_independent() -> None:
    """deny=True answers access_denied; another mock instance is unaffected."""
    denied, other = mock_app(deny=True).test_client(), mock_app().test_client()
    params = {"response_type": "code", "client_id": "cid", "redirect_uri": REDIRECT, "state": "s"}
    location = denied.get("/exchange/1/oauth/authorize", query_string=params).headers["Location"]
    assert query_of(location) == {"error": "access_denied", "state": "s"}
    assert "code" in query_of(
        other.get("/exchange/1/oauth/authorize", query_string=params).headers["Location"]
    )
