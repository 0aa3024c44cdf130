"""A server worker killed mid-request loses nothing that was committed."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.integration.test_serve import BIN, ROOT

pytestmark = pytest.mark.slow


def workers(main: int) -> list[int]:
    """The server's live worker processes (not multiprocessing's resource tracker, no zombie)."""
    out = subprocess.run(
        ["ps", "-o", "pid=,stat=,args=", "--ppid", str(main)],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    rows = [line.split(None, 2) for line in out.splitlines() if line.strip()]
    return [
        int(pid) for pid, stat, args in rows if "resource_tracker" not in args and "Z" not in stat
    ]


def respawned(main: int, count: int) -> bool:
    deadline = time.monotonic() + 60  # granian waits 3.5 s, then a fresh interpreter starts
    while time.monotonic() < deadline:
        if len(workers(main)) == count:
            return True
        time.sleep(0.2)
    return False


def admin_token(base: str, env: dict[str, str]) -> str:
    import json

    out = subprocess.run(
        [
            str(BIN / "identity"),
            "clients",
            "create",
            "--name",
            "admin",
            "--scope",
            "admin",
            "--json",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    client = json.loads(out.stdout)
    raw = base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode()).decode()
    answer = httpx.post(
        f"{base}/access_token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {raw}"},
    )
    return str(answer.json()["access_token"])


def test_killed_worker_loses_no_committed_write(served: Any) -> None:
    """Every 201 the caller saw is stored in full after a SIGKILL of a worker mid-load."""
    base, env, proc = served
    headers = {"Authorization": f"Bearer {admin_token(base, env)}"}
    acknowledged: list[dict[str, Any]] = []
    lock = threading.Lock()
    sent = threading.Semaphore(0)

    def create(i: int) -> None:
        sent.release()
        try:
            answer = httpx.post(
                f"{base}/admin/api-keys",
                headers=headers,
                timeout=20,
                json={"name": f"kill-{i}", "scope": "inbox:issue"},
            )
        except httpx.HTTPError:
            return  # the connection died with the worker: the caller knows nothing committed
        if answer.status_code == 201:
            with lock:
                acknowledged.append(answer.json())

    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(create, i) for i in range(120)]
        for _ in range(40):
            sent.acquire()
        os.kill(workers(proc.pid)[0], signal.SIGKILL)
        for future in futures:
            future.result()

    assert len(acknowledged) >= 60
    listed = httpx.get(f"{base}/admin/api-keys", headers=headers, timeout=20).json()
    rows = {row["id"]: row for row in listed["api_keys"]}
    for created in acknowledged:
        row = rows[created["id"]]
        assert row["name"].startswith("kill-") and row["scope"] == "inbox:issue"
    # A key that was committed works in full (hash stored): authenticate with one.
    sample = acknowledged[-1]["key"]
    inbox = httpx.post(
        f"{base}/v1/inbox/tokens", json={"identifier": "u1"}, headers={"X-API-Key": sample}
    )
    assert inbox.status_code == 200
    assert proc.poll() is None and respawned(proc.pid, 2)  # granian respawned the worker
