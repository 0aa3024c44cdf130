"""The serving model (issue 11): slow upstream calls never stall signing; SIGTERM loses nothing."""

from __future__ import annotations

import base64
import itertools
import json
import re
import signal
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from identity.devtools.mock_infobip import MockInfobip
from tests.integration.conftest import prepare, run
from tests.integration.test_serve import BIN, free_port, start_server, wait_ready

pytestmark = pytest.mark.slow


def client_basic(env: dict[str, str]) -> dict[str, str]:
    created = json.loads(
        run(
            env,
            str(BIN / "identity"),
            "clients",
            "create",
            "--name",
            "c",
            "--scope",
            "profile:read",
            "--json",
        )
    )
    raw = f"{created['client_id']}:{created['client_secret']}".encode()
    return {"Authorization": f"Basic {base64.b64encode(raw).decode()}"}


def wait_for_upstream_call(mock: MockInfobip) -> None:
    deadline = time.monotonic() + 20
    while not mock.calls["POST /auth/1/session"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert mock.calls["POST /auth/1/session"], "the broker reads never reached the upstream"


def test_slow_upstream_reads_do_not_stall_signing(env: dict[str, str]) -> None:
    """Four broker reads wait on a 5 s upstream; a token request is answered meanwhile."""
    with MockInfobip(latency=5.0) as mock:
        token = prepare(env, mock.base_url)
        basic = client_basic(env)
        port = free_port()
        proc = start_server(env, port, "--workers", "1")  # one worker: the reads share it
        base = f"http://127.0.0.1:{port}"
        try:
            wait_ready(f"{base}/healthz", proc)
            read = f"{base}/upstream/connections/sms/authorization"
            with ThreadPoolExecutor(4) as pool:
                reads = [
                    pool.submit(
                        httpx.get, read, headers={"Authorization": f"Bearer {token}"}, timeout=30
                    )
                    for _ in range(4)
                ]
                wait_for_upstream_call(mock)
                answer = httpx.post(
                    f"{base}/access_token",
                    data={"grant_type": "client_credentials"},
                    headers=basic,
                    timeout=1.0,  # the bound; the reads take five times as long
                )
                pending = [read for read in reads if not read.done()]
                results = [read.result() for read in reads]
        finally:
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=30)
    assert answer.status_code == 200 and answer.json()["token_type"] == "Bearer"
    assert len(pending) == 4  # answered while every read was still waiting upstream
    assert {r.status_code for r in results} == {200}
    assert mock.calls["POST /auth/1/session"] == 1


def test_sigterm_under_load_finishes_every_request_in_flight(
    env: dict[str, str], tmp_path: Path
) -> None:
    """SIGTERM while slow reads and token requests are in flight: each one gets its answer.

    A request the server began answering (it logs each one with the caller's X-Request-Id) is
    never cut off. One sent on a kept-alive connection just as the server closes it was never
    read: the caller sees the connection close without a response, as HTTP/1.1 allows
    (RFC 9112 §9.3.1), and may send it again.
    """
    env = {**env, "IDENTITY_LOG_LEVEL": "INFO"}  # the access log names every request answered
    with MockInfobip(latency=4.0) as mock:
        token = prepare(env, mock.base_url)
        basic = client_basic(env)
        port = free_port()
        log = tmp_path / "server.log"
        with log.open("wb") as sink:
            proc = start_server(env, port, log=sink)
        base = f"http://127.0.0.1:{port}"
        wait_ready(f"{base}/healthz", proc)
        read = f"{base}/upstream/connections/sms/authorization"
        stop = time.monotonic() + 60

        def hammer(worker: int) -> tuple[list[str], list[str]]:
            """Token requests on one kept-alive connection until the server goes away."""
            answered: list[str] = []
            with httpx.Client(timeout=10) as http:
                for n in itertools.count():
                    rid = f"hammer-{worker}-{n}"
                    try:
                        answer = http.post(
                            f"{base}/access_token",
                            data={"grant_type": "client_credentials"},
                            headers={**basic, "X-Request-Id": rid},
                        )
                    except httpx.HTTPError:
                        return answered, [rid]
                    assert answer.status_code == 200
                    answered.append(rid)
                    if time.monotonic() > stop:
                        return answered, []
            raise AssertionError("unreachable")

        with ThreadPoolExecutor(8) as pool:
            reads: list[Future[Any]] = [
                pool.submit(
                    httpx.get, read, headers={"Authorization": f"Bearer {token}"}, timeout=30
                )
                for _ in range(3)
            ]
            loads = [pool.submit(hammer, i) for i in range(4)]
            wait_for_upstream_call(mock)
            time.sleep(1.5)  # every read has reached the server; the upstream answers at 4 s
            proc.send_signal(signal.SIGTERM)
            read_results = [r.result() for r in reads]
            outcomes = [load.result() for load in loads]
        proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert [r.status_code for r in read_results] == [200, 200, 200]
    answered = {rid for done, _ in outcomes for rid in done}
    unanswered = {rid for _, cut in outcomes for rid in cut}
    served = set(re.findall(r'"request_id": "(hammer-[0-9]+-[0-9]+)"', log.read_text()))
    assert len(answered) > 10 and answered <= served
    assert served & unanswered == set()  # nothing the server took on went unanswered
