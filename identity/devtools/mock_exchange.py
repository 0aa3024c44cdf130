"""The mock Exchange authorization server (``/exchange/1/oauth/authorize`` and ``/token``).

Behaves as Infobip documents it: ``authorize`` auto-approves (or answers
``error=access_denied`` when ``deny`` is set) by redirecting to ``redirect_uri?code=&state=``;
codes are 16 hex characters, work once and expire after 60 s; ``token`` verifies PKCE S256
(RFC 7636 §4.6) and the client secret when one is configured, and returns the documented token
JSON. State lives per app (``app.extensions``), so two mock instances share nothing.

    configure(app, client_id="...", client_secret="", deny=False, account={...})
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from flask import Blueprint, Flask, Response, current_app, jsonify, redirect, request
from werkzeug.wrappers import Response as WerkzeugResponse

exchange_bp = Blueprint("mock_exchange", __name__)

DEFAULT_ACCOUNT: dict[str, Any] = {
    "tokenType": "IBSSO",
    "accountKey": "8F0792F86035A9F4290821F1EE6BC06A",
    "userKey": "F443BCAEB8517F7159F44D0E8CFE725D",
    "username": "developeruser",
    "email": "developer@example.com",
    "locale": "en-US",
    "roles": [{"id": 79, "name": "Manager"}, {"id": 1393, "name": "Designer"}],
    "groups": [{"id": 54004, "name": "Group1"}],
}


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str | None
    expires_at: float


@dataclass
class MockExchange:
    """Knobs and issued codes of one mock instance."""

    client_id: str = ""  # empty: any client id is accepted
    client_secret: str = ""  # empty: PKCE-only public client
    deny: bool = False  # authorize answers error=access_denied
    code_ttl: float = 60.0
    account: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_ACCOUNT))
    codes: dict[str, _Code] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def state(app: Flask | None = None) -> MockExchange:
    """This app's mock state, created on first use."""
    extensions = (app or current_app).extensions
    return extensions.setdefault("mock_exchange", MockExchange())  # type: ignore[no-any-return]


def configure(app: Flask, **knobs: Any) -> MockExchange:
    """Set knobs (``client_id``, ``client_secret``, ``deny``, ``code_ttl``, ``account``)."""
    mock = state(app)
    for name, value in knobs.items():
        if not hasattr(mock, name):
            raise TypeError(f"unknown mock Exchange knob {name!r}")
        setattr(mock, name, value)
    return mock


def _oauth_error(error: str, status: int = 400) -> Response:
    response = jsonify({"error": error, "error_description": error.replace("_", " ")})
    response.status_code = status
    return response


def _redirect(uri: str, **params: str) -> WerkzeugResponse:
    separator = "&" if "?" in uri else "?"
    return redirect(f"{uri}{separator}{urlencode(params)}", code=302)


@exchange_bp.get("/exchange/1/oauth/authorize")
def authorize() -> WerkzeugResponse:
    """Auto-approve (or deny) and send the browser back with a fresh code."""
    mock, args = state(), request.args
    mock.calls.append("authorize")
    redirect_uri, client_id = args.get("redirect_uri", ""), args.get("client_id", "")
    if not redirect_uri.startswith(("http://", "https://")) or args.get("response_type") != "code":
        return _oauth_error("invalid_request")
    if mock.client_id and client_id != mock.client_id:
        return _oauth_error("unauthorized_client")
    extra = {"state": args["state"]} if "state" in args else {}
    if mock.deny:
        return _redirect(redirect_uri, error="access_denied", **extra)
    if args.get("code_challenge") and args.get("code_challenge_method") != "S256":
        return _redirect(redirect_uri, error="invalid_request", **extra)
    code = secrets.token_hex(8)  # 16 hex characters, as documented
    with mock.lock:
        mock.codes[code] = _Code(
            client_id, redirect_uri, args.get("code_challenge"), time.monotonic() + mock.code_ttl
        )
    return _redirect(redirect_uri, code=code, **extra)


def _client_ok(mock: MockExchange, form: Any, grant: _Code) -> bool:
    if form.get("client_id") != grant.client_id:
        return False
    if mock.client_secret:
        return hmac.compare_digest(form.get("client_secret", ""), mock.client_secret)
    return True


def _pkce_ok(grant: _Code, verifier: str | None) -> bool:
    """RFC 7636 §4.6: S256(code_verifier) must equal the stored code_challenge."""
    if grant.challenge is None:
        return verifier is None
    if not verifier:
        return False
    return hmac.compare_digest(create_s256_code_challenge(verifier), grant.challenge)


@exchange_bp.post("/exchange/1/oauth/token")
def token() -> Response:
    """Exchange a code once, within its minute, for the documented token document."""
    mock, form = state(), request.form
    mock.calls.append("token")
    if form.get("grant_type") != "authorization_code":
        return _oauth_error("unsupported_grant_type")
    with mock.lock:
        grant = mock.codes.pop(form.get("code", ""), None)  # single use, even when refused
    if grant is None or grant.expires_at < time.monotonic():
        return _oauth_error("invalid_grant")
    if not _client_ok(mock, form, grant):
        return _oauth_error("invalid_client", 401)
    if form.get("redirect_uri") != grant.redirect_uri or not _pkce_ok(
        grant, form.get("code_verifier")
    ):
        return _oauth_error("invalid_grant")
    if grant.challenge is None and not mock.client_secret:
        return _oauth_error("invalid_client", 401)  # neither a secret nor PKCE
    issued = str(uuid.uuid4())
    mock.tokens.append(issued)
    return jsonify({"token": issued, **mock.account})
