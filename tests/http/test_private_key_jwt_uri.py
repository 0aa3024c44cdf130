"""``private_key_jwt`` with a ``jwks_uri``: a real local HTTP server (loopback, allowed by the
development switch), fetched once, cached, fetched again on an unknown kid at most once a
minute; without the switch the same URI is never fetched."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask

from identity.services import jwks_uri
from tests.assertion_helpers import (
    PartnerKey,
    assertion,
    ec_key,
    jwks,
    make_assertion_client,
    rsa_key,
)
from tests.http.test_oauth_token import assert_oauth_error
from tests.http.test_private_key_jwt import post_token


class JwksServer:
    """Serves ``keys`` as a JWK Set and counts the requests."""

    def __init__(self) -> None:
        self.keys: list[PartnerKey] = []
        self.hits = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                server.hits += 1
                body = json.dumps(jwks(*server.keys)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/jwks.json"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    server = JwksServer()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"allow_insecure_jwks_uri": True}


def test_unknown_kid_refetches_at_most_once_a_minute(
    app: Flask, jwks_server: JwksServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rolled keys are found by one refetch; a second unknown kid within a minute is not."""
    first, second, third = rsa_key(), ec_key(), rsa_key()
    jwks_server.keys = [first]
    partner = make_assertion_client(app, jwks_uri=jwks_server.url)
    http = app.test_client()
    assert post_token(http, assertion(partner.client_id, first)).status_code == 200
    assert post_token(http, assertion(partner.client_id, first)).status_code == 200
    assert jwks_server.hits == 1  # cached

    jwks_server.keys = [first, second]
    assert post_token(http, assertion(partner.client_id, second)).status_code == 200
    assert jwks_server.hits == 2  # unknown kid: fetched again

    jwks_server.keys = [first, second, third]
    refused = post_token(http, assertion(partner.client_id, third))
    assert_oauth_error(refused, 401, "invalid_client")
    assert jwks_server.hits == 2  # within the minute: not fetched again

    later = jwks_uri.time.monotonic() + 61
    monkeypatch.setattr(jwks_uri.time, "monotonic", lambda: later)
    assert post_token(http, assertion(partner.client_id, third)).status_code == 200
    assert jwks_server.hits == 3


def test_without_the_switch_the_uri_is_never_fetched(
    make_app: Any, jwks_server: JwksServer
) -> None:
    """A loopback jwks_uri registered in development is refused (not fetched) in production."""
    key = rsa_key()
    jwks_server.keys = [key]
    development = make_app()
    partner = make_assertion_client(development, jwks_uri=jwks_server.url)
    production = make_app(allow_insecure_jwks_uri=False)
    refused = post_token(production.test_client(), assertion(partner.client_id, key))
    assert_oauth_error(refused, 401, "invalid_client")
    assert jwks_server.hits == 0
