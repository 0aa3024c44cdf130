"""The default gunicorn worker (identity.workers.KeepAliveWorker) as `make run` serves it."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
from typing import Any
from urllib.parse import urlsplit

from tests.integration.test_serve import BIN, ROOT


def _connection(base: str) -> http.client.HTTPConnection:
    parts = urlsplit(base)
    return http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)


def test_requests_share_one_kept_alive_connection(served: tuple[str, Any, Any]) -> None:
    base, env, _ = served
    created = subprocess.run(
        [str(BIN / "identity"), "api-keys", "create", "--name", "k", "--scope", "inbox:issue"]
        + ["--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    key = json.loads(created.stdout)["key"]
    conn = _connection(base)
    conn.connect()
    local = conn.sock.getsockname()
    headers = {"X-API-Key": key, "Content-Type": "application/json"}
    for n in range(5):  # the hot path and the Flask views, on one connection
        conn.request("POST", "/v1/inbox/tokens", json.dumps({"identifier": f"u{n}"}), headers)
        response = conn.getresponse()
        assert response.status == 200, response.read()
        assert json.loads(response.read())["expires_in"] == 3600
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        assert response.status == 200 and response.getheader("Connection") != "close"
        response.read()
        assert conn.sock.getsockname() == local  # still the same TCP connection
    conn.close()


def test_idle_connections_do_not_hold_the_workers(served: tuple[str, Any, Any]) -> None:
    """Connections that send nothing wait in the poller: the 2 workers still answer others."""
    base, _, _ = served
    parts = urlsplit(base)
    idle = [socket.create_connection((parts.hostname, parts.port)) for _ in range(6)]
    try:
        conn = _connection(base)
        conn.timeout = 3  # below the 5 s a worker would wait for an idle client's first bytes
        for _ in range(4):
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            assert response.status == 200
            response.read()
        conn.close()
    finally:
        for sock in idle:
            sock.close()
