"""Exchange test helpers: the mock authorization server over HTTP, signed requests, the flow."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from flask.testing import FlaskClient
from werkzeug.serving import WSGIRequestHandler, make_server

from identity.devtools import mock_exchange
from identity.devtools.mock_infobip import MockInfobip

CLIENT_ID = "d5e47f02d627e390d615c2e93f168eb6"
SIGNING_SECRET = "H+WPXpCaBeLkd5pukqMoqWLZnL/5yEscexA73H7Uffw="
HUB_SECRET = "hub-app-secret-for-tests"
ADAPTER_TOKEN = "adapter-access-token-for-tests"
ACCOUNT_KEY = mock_exchange.DEFAULT_ACCOUNT["accountKey"]


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """No access log lines in test output."""


class ServedApp:
    """A WSGI app served on a free loopback port by a thread (real HTTP)."""

    def __init__(self, app: Any, host: str = "127.0.0.1", ssl_context: Any = None) -> None:
        self.server = make_server(
            host, 0, app, threaded=True, ssl_context=ssl_context, request_handler=_QuietHandler
        )
        scheme = "https" if ssl_context else "http"
        self.base_url = f"{scheme}://{host}:{self.server.server_port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def stop(self) -> None:
        if not self.thread.is_alive():
            return
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


class MockExchangeServer:
    """The mock Infobip upstream (with its Exchange authorization server) on a loopback port."""

    def __init__(self, **knobs: Any) -> None:
        self.upstream = MockInfobip()
        self.app = self.upstream.app
        self.base_url = self.upstream.base_url
        self.state = mock_exchange.configure(self.app, client_id=CLIENT_ID, **knobs)
        self._stopped = False

    def stop(self) -> None:
        if not self._stopped:
            self._stopped = True
            self.upstream.stop()


def exchange_headers(
    body: bytes, timestamp_ms: int | None = None, secret: str = SIGNING_SECRET
) -> dict[str, str]:
    """Headers of a request signed as Exchange signs it (computed here, independently)."""
    timestamp = str(int(time.time() * 1000) if timestamp_ms is None else timestamp_ms)
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Ib-Exchange-Req-Timestamp": timestamp,
        "X-Ib-Exchange-Req-AccountKey": "D8ADC25936426DE0279BC0C4EA791D9B",
        "X-Ib-Exchange-Req-Signature": digest,
    }


def hub_headers(body: bytes, secret: str = HUB_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    return {"Content-Type": "application/json", "X-Hub-Signature": f"sha1={digest}"}


def dumps(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def authorize(client: FlaskClient, state: str | None = None) -> str:
    """``/exchange/connect`` then the mock's authorize endpoint: the callback URL it sends back."""
    started = client.get("/exchange/connect" + (f"?state={state}" if state else ""))
    assert started.status_code == 302, started.get_data(as_text=True)
    answer = httpx.get(started.headers["Location"], follow_redirects=False)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def connect(client: FlaskClient, state: str | None = None) -> Any:
    """The whole flow in one browser (``client``); returns the callback response."""
    return client.get(path_of(authorize(client, state)))
