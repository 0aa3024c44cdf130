"""The body gate behind a real HTTP server: chunked bodies over the limit are 413 (issue 12)."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.customers_helpers import PASSWORD, create_customer

LIMIT = 65536


@pytest.fixture
def served(app: Flask) -> Iterator[int]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    thread.join(timeout=5)


def _chunked_post(port: int, path: str, body: bytes, headers: dict[str, str]) -> Any:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    chunks = (body[i : i + 8192] for i in range(0, len(body), 8192))
    connection.request("POST", path, body=chunks, headers=headers, encode_chunked=True)
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response, payload


def test_chunked_login_over_the_limit_is_413(app: Flask, served: int) -> None:
    """A chunked JSON login over 64 KiB is 413 PAYLOAD_TOO_LARGE (not "Invalid JSON body")."""
    body = json.dumps({"username": "a", "password": "x" * (LIMIT + 100)}).encode()
    response, payload = _chunked_post(
        served, "/customer_authenticate", body, {"Content-Type": "application/json"}
    )
    assert response.status == 413
    assert response.getheader("X-Request-Id")
    error = json.loads(payload)["requestError"]["serviceException"]
    assert error["messageId"] == "PAYLOAD_TOO_LARGE"


def test_chunked_login_within_the_limit_is_read_whole(app: Flask, served: int) -> None:
    """Under the limit, the chunked body reaches the route in full."""
    create_customer(app, "zoe")
    body = json.dumps({"username": "zoe", "password": PASSWORD}).encode()
    response, payload = _chunked_post(
        served, "/customer_authenticate", body, {"Content-Type": "application/json"}
    )
    assert response.status == 200, payload
    assert "access_token" in json.loads(payload)


def test_chunked_token_request_over_the_limit_is_413_invalid_request(
    app: Flask, served: int
) -> None:
    """A chunked token request over the limit: 413 in RFC 6749 §5.2 shape, no token."""
    body = b"grant_type=client_credentials&pad=" + b"a" * (2 * LIMIT)
    response, payload = _chunked_post(
        served, "/access_token", body, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status == 413
    assert json.loads(payload)["error"] == "invalid_request"
