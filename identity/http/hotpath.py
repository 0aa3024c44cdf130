"""The signing endpoints' success path, answered in front of Flask (a WSGI middleware).

A token from ``/access_token``, ``/oauth/token``, ``/inbox/token`` or ``/v1/inbox/tokens``
should cost about one RS256 signature (issues #3 and #4). Flask's dispatch, flask-smorest's
wrappers and Authlib's request objects together cost more than the signature itself, so the
common well-formed request is answered here, by the same services the Flask views call.

Anything else is handed to the Flask app untouched (the body is put back): a request this
module does not recognise as plainly valid, any error a service raises, cookie mode, a
request with an ``Origin`` (CORS and cross-site checks live in the views). Errors therefore
have one renderer, and the views stay the reference: tests send every request both ways and
compare status, headers and claims.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

from identity.core.bodies import FORM, body_pairs, single_params
from identity.core.bodies import JSON as JSON_TYPE
from identity.extensions import get_service, get_settings
from identity.http.broker import UPSTREAM_READ, authorization_body
from identity.http.inbox import IDENTIFIER_MAX, INBOX_ISSUE, inbox_body
from identity.http.security import (
    api_key_from,
    bearer_from,
    check_access_token,
    check_api_key,
    split_authorization,
)
from identity.oauth.models import Client
from identity.oauth.requests import parse_basic
from identity.observability import new_request_id, record_request
from identity.services.clients import scope_within

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]
Answer = dict[str, Any]  # the JSON body of a 200; None from a handler means "ask Flask"
Handler = Callable[[Environ, bytes], Answer | None]
UPSTREAM_PREFIX, UPSTREAM_SUFFIX = "/upstream/connections/", "/authorization"
UPSTREAM_RULE = "/upstream/connections/<name>/authorization"
GRANT = "client_credentials"
TOKEN_PARAMS = frozenset({"grant_type", "scope"})  # once the client credentials are taken out
NO_STORE = [("Cache-Control", "no-store"), ("Pragma", "no-cache")]  # RFC 6749 §5.1


def _mimetype(environ: Environ) -> str:
    return str(environ.get("CONTENT_TYPE", "")).partition(";")[0].strip().lower()


class HotPath:
    """WSGI middleware: ``app.wsgi_app = HotPath(app, app.wsgi_app)``."""

    def __init__(self, app: Flask, wsgi_app: WsgiApp) -> None:
        self.app = app
        self.next = wsgi_app
        self.max_body = get_settings(app).max_body_bytes
        # path -> (handler, metrics label, body ends with a newline as Flask's jsonify does)
        self.routes: dict[str, tuple[Handler, str, bool]] = {
            "/access_token": (self.access_token, "/access_token", False),
            "/oauth/token": (self.access_token, "/oauth/token", False),
            "/inbox/token": (self.customer_inbox_token, "/inbox/token", True),
            "/v1/inbox/tokens": (self.partner_inbox_token, "/v1/inbox/tokens", True),
        }
        self.upstream = (self.upstream_authorization, UPSTREAM_RULE, True)

    def __repr__(self) -> str:
        return "HotPath()"

    def _route(self, environ: Environ, path: str) -> tuple[Handler, str, bool] | None:
        method = environ.get("REQUEST_METHOD")
        if "HTTP_ORIGIN" in environ:
            return None  # CORS and cross-site checks live in the views
        if method == "POST":
            return self.routes.get(path)
        if method == "GET" and path.startswith(UPSTREAM_PREFIX) and path.endswith(UPSTREAM_SUFFIX):
            return self.upstream
        return None

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        route = self._route(environ, path)
        if route is None:
            return self.next(environ, start_response)
        handler, endpoint, newline = route
        started = time.perf_counter()
        body = self._read_body(environ)
        answer = None
        if body is not None:
            try:
                with self.app.app_context():
                    answer = handler(environ, body)
            except Exception:  # noqa: BLE001 - the Flask view answers it, errors included
                answer = None
            if body:
                environ["wsgi.input"] = io.BytesIO(body)  # Flask reads the same body again
        if answer is None:
            return self.next(environ, start_response)
        rid = new_request_id(str(environ.get("HTTP_X_REQUEST_ID", "")))
        payload = json.dumps(answer, separators=(",", ":")).encode() + (b"\n" if newline else b"")
        start_response(
            "200 OK",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(payload))),
                *NO_STORE,
                ("X-Request-Id", rid),
            ],
        )
        record_request(
            endpoint, str(environ["REQUEST_METHOD"]), path, 200, time.perf_counter() - started, rid
        )
        return [payload]

    def _read_body(self, environ: Environ) -> bytes | None:
        """The whole body when its length is declared and allowed, else None (Flask decides)."""
        if environ.get("HTTP_TRANSFER_ENCODING"):
            return None  # chunked: left for the view to read from the untouched stream
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None
        if length < 0 or length > self.max_body:
            return None
        return environ["wsgi.input"].read(length) if length else b""

    # --- POST /access_token: client credentials (RFC 6749 §4.4) ----------------------------
    def access_token(self, environ: Environ, body: bytes) -> Answer | None:
        """Both client authentication methods, ``grant_type`` and an optional ``scope`` only."""
        if _mimetype(environ) != FORM:
            return None
        params = single_params(body_pairs(FORM, body))
        scheme, value = split_authorization(str(environ.get("HTTP_AUTHORIZATION", "")))
        if scheme == "basic":
            client_id, secret = parse_basic(value)
        elif not scheme and "client_id" in params and "client_secret" in params:
            client_id, secret = params.pop("client_id"), params.pop("client_secret")
        else:
            return None
        if params.get("grant_type") != GRANT or not params.keys() <= TOKEN_PARAMS:
            return None  # e.g. client_id beside Basic: the view decides
        record = get_service("clients").authenticate(client_id, secret)
        if record is None:
            return None
        client = Client(record)
        scope = params.get("scope")
        if not client.check_grant_type(GRANT) or (
            scope is not None and not scope_within(scope, record.scopes)
        ):
            return None  # the view answers unauthorized_client / invalid_scope
        token: Answer = get_service("oauth").generate_access_token(GRANT, client, scope)
        return token

    # --- POST /inbox/token: customer token as Bearer (contract §3) -------------------------
    def customer_inbox_token(self, environ: Environ, body: bytes) -> Answer | None:
        scheme, token = split_authorization(str(environ.get("HTTP_AUTHORIZATION", "")))
        if scheme != "bearer" or not token:
            return None  # cookie mode: the view checks the origin
        if body.strip():
            return None  # issue 13: a body may name an inbox app; the view reads it
        return inbox_body(get_service("inbox").for_customer(token))

    # --- POST /v1/inbox/tokens: API key with inbox:issue (contract §3) --------------------
    def partner_inbox_token(self, environ: Environ, body: bytes) -> Answer | None:
        if _mimetype(environ) != JSON_TYPE:
            return None
        args = json.loads(body)
        identifier = args.get("identifier") if isinstance(args, dict) and len(args) == 1 else None
        if not isinstance(identifier, str) or not 1 <= len(identifier) <= IDENTIFIER_MAX:
            return None
        if not identifier.isprintable():
            return None  # the view's schema answers both with its field errors
        key = api_key_from(
            str(environ.get("HTTP_AUTHORIZATION", "")), environ.get("HTTP_X_API_KEY")
        )
        check_api_key(key, [INBOX_ISSUE])
        return inbox_body(get_service("inbox").for_identifier(identifier))

    # --- GET /upstream/connections/<name>/authorization, cached (contract §5) ---------------
    def upstream_authorization(self, environ: Environ, body: bytes) -> Answer | None:
        """Only an in-process cache hit: a miss (and its upstream call) is the view's."""
        name = str(environ["PATH_INFO"])[len(UPSTREAM_PREFIX) : -len(UPSTREAM_SUFFIX)]
        if not name or "/" in name:
            return None
        check_access_token(bearer_from(str(environ.get("HTTP_AUTHORIZATION", ""))), [UPSTREAM_READ])
        cached = get_service("broker").peek(name)
        return authorization_body(cached) if cached is not None else None
