"""A mock Infobip upstream for tests, benchmarks and README's walk-through.

Serves ``POST/DELETE /auth/1/session`` (IBSSO), ``POST /auth/1/oauth2/token`` (client
credentials) and, through ``identity.devtools.mock_exchange.exchange_bp``, the Exchange OAuth
endpoints. Knobs (all settable while it runs):

    lifetime      seconds an issued token lives (oauth2 ``expires_in``; IBSSO sessions too)
    expires_in    "number" | "string" | "missing": how oauth2 ``expires_in`` is sent
    latency       seconds every auth call waits before answering
    failure       None | "500" | "timeout" | "garbage" | "401" | "429": how auth calls fail
    retry_after   the ``Retry-After`` value sent with a "429" failure (seconds or an HTTP-date)
    fail_times    None = fail every call while ``failure`` is set; N = only the next N calls
    hang          seconds a "timeout" failure sleeps (longer than the caller's read timeout)
    username/password, client_id/client_secret: the credentials accepted (401 otherwise)

``calls`` counts every request as ``"METHOD /path"`` (e.g. ``calls["POST /auth/1/session"]``);
``GET /_mock/calls`` answers them as JSON, for a mock running in another process.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from werkzeug.serving import WSGIRequestHandler, make_server

from identity.devtools.mock_exchange import exchange_bp

SESSION = "/auth/1/session"
OAUTH2 = "/auth/1/oauth2/token"
STATS = "/_mock/calls"  # GET: the call counters as JSON (for a mock run in another process)
FAILURES = (None, "500", "timeout", "garbage", "401", "429")


@dataclass
class MockState:
    """Knobs, counters and issued tokens; shared by every request thread."""

    lifetime: int = 3600
    expires_in: str = "number"
    latency: float = 0.0
    failure: str | None = None
    fail_times: int | None = None
    hang: float = 5.0
    retry_after: str = "120"
    username: str = "user"
    password: str = "pass"  # noqa: S105 - a development fixture, not a secret
    client_id: str = "client"
    client_secret: str = "secret"  # noqa: S105
    calls: Counter[str] = field(default_factory=Counter)
    history: list[str] = field(default_factory=list)  # "METHOD /path" in arrival order
    sessions: dict[str, float] = field(default_factory=dict)  # token -> expires (epoch)
    tokens: dict[str, float] = field(default_factory=dict)
    destroyed: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)

    def set(self, **knobs: Any) -> None:
        """Change knobs; unknown names are an error (typos should not pass silently)."""
        for name, value in knobs.items():
            if name in ("calls", "history", "sessions", "tokens", "destroyed", "lock", "stopping"):
                raise TypeError(f"{name} is not a knob")
            if not hasattr(self, name):
                raise TypeError(f"unknown knob {name!r}")
            if name == "failure" and value not in FAILURES:
                raise ValueError(f"failure must be one of {FAILURES}")
            setattr(self, name, value)

    def _take_failure(self) -> str | None:
        with self.lock:
            if self.failure is None:
                return None
            if self.fail_times is not None:
                if self.fail_times <= 0:
                    return None
                self.fail_times -= 1
            return self.failure

    def valid_sessions(self) -> list[str]:
        now = time.time()
        with self.lock:
            return [t for t, exp in self.sessions.items() if exp > now]


def _state() -> MockState:
    return current_app.extensions["mock_infobip"]  # type: ignore[no-any-return]


def _error(status: int, message_id: str, text: str) -> tuple[Response, int]:
    body = {"requestError": {"serviceException": {"messageId": message_id, "text": text}}}
    return jsonify(body), status


def _failure_response() -> tuple[Response, int] | Response | None:
    """Apply latency and the failure knob; None when the call should succeed."""
    state = _state()
    if state.latency:
        state.stopping.wait(state.latency)
    mode = state._take_failure()
    if mode == "500":
        return _error(500, "GENERAL_ERROR", "Something went wrong")
    if mode == "timeout":
        state.stopping.wait(state.hang)
        return _error(504, "GENERAL_ERROR", "Too slow")
    if mode == "garbage":
        return Response("<html>definitely not json", status=200, mimetype="application/json")
    if mode == "401":
        return _error(401, "UNAUTHORIZED", "Invalid login details")
    if mode == "429":
        response, status = _error(429, "TOO_MANY_REQUESTS", "Too many requests")
        response.headers["Retry-After"] = state.retry_after
        return response, status
    return None


def _payload() -> dict[str, Any]:
    if request.mimetype == "application/json":
        body = request.get_json(silent=True)
        return body if isinstance(body, dict) else {}
    return request.form.to_dict()


def create_session() -> Any:
    """IBSSO login: ``{"username", "password"}`` → ``{"token"}``."""
    failed = _failure_response()
    if failed is not None:
        return failed
    state, body = _state(), _payload()
    ok = secrets.compare_digest(str(body.get("username", "")), state.username)
    ok &= secrets.compare_digest(str(body.get("password", "")), state.password)
    if not ok:
        return _error(401, "UNAUTHORIZED", "Invalid login details")
    token = secrets.token_hex(16)
    with state.lock:
        state.sessions[token] = time.time() + state.lifetime
    return jsonify({"token": token})


def destroy_session() -> Any:
    """IBSSO logout: ``Authorization: IBSSO <token>`` → 204."""
    state = _state()
    if state.failure != "401":  # a rejected password shows at login; outages hit logout too
        failed = _failure_response()
        if failed is not None:
            return failed
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    with state.lock:
        known = scheme == "IBSSO" and state.sessions.pop(token, None) is not None
        if known:
            state.destroyed.append(token)
    if not known:
        return _error(401, "UNAUTHORIZED", "Invalid login details")
    return Response(status=204)


def oauth2_token() -> Any:
    """Client credentials: form ``client_id``, ``client_secret``, ``grant_type``."""
    failed = _failure_response()
    if failed is not None:
        return failed
    state, form = _state(), _payload()
    if form.get("grant_type") != "client_credentials":
        return jsonify({"error": "unsupported_grant_type"}), 400
    ok = secrets.compare_digest(str(form.get("client_id", "")), state.client_id)
    ok &= secrets.compare_digest(str(form.get("client_secret", "")), state.client_secret)
    if not ok:
        return jsonify({"error": "invalid_client"}), 401
    token = secrets.token_urlsafe(24)
    with state.lock:
        state.tokens[token] = time.time() + state.lifetime
    body: dict[str, Any] = {"access_token": token, "token_type": "Bearer"}
    if state.expires_in == "number":
        body["expires_in"] = state.lifetime
    elif state.expires_in == "string":
        body["expires_in"] = str(state.lifetime)
    return jsonify(body)


def create_mock_app(**knobs: Any) -> Flask:
    """The mock upstream as a Flask app; its ``MockState`` is ``app.extensions["mock_infobip"]``."""
    app = Flask("mock_infobip")
    state = MockState()
    state.set(**knobs)
    app.extensions["mock_infobip"] = state

    @app.before_request
    def count() -> None:
        if request.path == STATS:
            return
        with state.lock:
            state.calls[f"{request.method} {request.path}"] += 1
            state.history.append(f"{request.method} {request.path}")

    app.add_url_rule(SESSION, "create_session", create_session, methods=["POST"])
    app.add_url_rule(SESSION, "destroy_session", destroy_session, methods=["DELETE"])
    app.add_url_rule(OAUTH2, "oauth2_token", oauth2_token, methods=["POST"])
    app.add_url_rule(STATS, "stats", lambda: jsonify(dict(state.calls)), methods=["GET"])
    app.register_blueprint(exchange_bp)
    return app


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """No access log: tests and benchmarks read ``calls`` instead."""


class MockInfobip:
    """The mock on a free 127.0.0.1 port in a background thread; use as a context manager."""

    def __init__(self, port: int = 0, **knobs: Any) -> None:
        self.app = create_mock_app(**knobs)
        self.state: MockState = self.app.extensions["mock_infobip"]
        self._server = make_server(
            "127.0.0.1", port, self.app, threaded=True, request_handler=_QuietHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_port)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def calls(self) -> Counter[str]:
        return self.state.calls

    @property
    def logins(self) -> int:
        """Upstream token calls so far (IBSSO logins + OAuth2 token requests)."""
        return self.calls[f"POST {SESSION}"] + self.calls[f"POST {OAUTH2}"]

    def set(self, **knobs: Any) -> None:
        self.state.set(**knobs)

    def fail(self, mode: str | None, times: int | None = None) -> None:
        """Make auth calls fail (``"500"``, ``"timeout"``, ``"garbage"``, ``"401"``) or recover."""
        self.state.set(failure=mode, fail_times=times)

    def reset_calls(self) -> None:
        with self.state.lock:
            self.state.calls.clear()
            self.state.history.clear()

    def stop(self) -> None:
        self.state.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> MockInfobip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
