"""`identity init` + `identity serve`, as `make run` does it, in a fresh instance folder."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from tests import backends

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def instance_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("IDENTITY_", "DATABASE_URL", "REDIS_URL"))
    }
    env["IDENTITY_INSTANCE_DIR"] = str(tmp_path / "instance")
    env["IDENTITY_LOG_LEVEL"] = "WARNING"
    env["IDENTITY_INBOX_API_KEY"] = "inbox-vendor-key"
    if backends.BACKEND == "postgres":
        env["DATABASE_URL"] = backends.create_pg_database()
    yield env
    if backends.BACKEND == "postgres":
        backends.drop_pg_database(env["DATABASE_URL"])


def start_server(
    env: dict[str, str], port: int, *options: str, log: Any = subprocess.PIPE
) -> subprocess.Popen[bytes]:
    """``identity serve`` on ``port`` (granian, 2 workers unless ``options`` say otherwise).

    ``log`` takes stderr: a file when the server logs much (a full pipe would block it)."""
    return subprocess.Popen(
        [str(BIN / "identity"), "serve", "--bind", f"127.0.0.1:{port}", *options],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
    )


def wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode() if proc.stderr else "exited")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("server did not start")


@pytest.fixture
def served(
    instance_env: dict[str, str],
) -> Iterator[tuple[str, dict[str, str], subprocess.Popen[bytes]]]:
    """`identity init` + `identity serve` in a fresh folder: (base URL, env, main process)."""
    init = subprocess.run(
        [str(BIN / "identity"), "init"],
        cwd=ROOT,
        env=instance_env,
        capture_output=True,
        timeout=120,
    )
    assert init.returncode == 0, init.stderr.decode()
    secrets = Path(instance_env["IDENTITY_INSTANCE_DIR"]) / "secrets.env"
    assert oct(secrets.stat().st_mode & 0o777) == "0o600"
    assert f"into {secrets.resolve()}\n" in init.stderr.decode()  # the real path, not a default
    port = free_port()
    proc = start_server(instance_env, port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{base}/readyz", proc)
        yield base, instance_env, proc
    finally:
        proc.send_signal(signal.SIGINT)  # quick shutdown: tests need no grace period
        proc.communicate(timeout=15)


def test_served_jwks_verifies_a_token_from_the_signer(served: tuple[str, Any, Any]) -> None:
    base, env, _ = served
    jwks = httpx.get(f"{base}/.well-known/jwks.json").json()
    assert len(jwks["keys"]) == 1
    sign = subprocess.run(
        [
            sys.executable,
            "-c",
            "from identity.app import create_app; from identity.extensions import services\n"
            "app = create_app()\n"
            "with app.app_context(): print(services().keys.sign({'sub': 'served'}, 'JWT'))",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=60,
    )
    token = sign.stdout.decode().strip()
    key = jwt.PyJWK.from_json(json.dumps(jwks["keys"][0])).key
    assert jwt.decode(token, key, algorithms=["RS256"])["sub"] == "served"
    assert httpx.get(f"{base}/readyz").status_code == 200


def test_invalid_configuration_stops_startup_in_one_line(instance_env: dict[str, str]) -> None:
    env = {**instance_env, "IDENTITY_ISSUER": "nope"}
    proc = start_server(env, free_port())
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    text = err.decode()
    assert proc.returncode == 2
    assert text.strip() == "identity: IDENTITY_ISSUER: must be an http(s) URL"


def test_supervisor_never_loads_the_application(served: tuple[str, Any, Any]) -> None:
    """The supervisor runs granian only: no database driver or crypto library is mapped in it,
    while every worker has them (the start-up checks ran in a child process that has exited)."""
    _, _, proc = served
    supervisor = Path(f"/proc/{proc.pid}/maps").read_text()
    workers = [
        int(pid)
        for pid in subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(proc.pid)], capture_output=True, text=True
        ).stdout.split()
    ]
    worker_maps = [Path(f"/proc/{pid}/maps").read_text() for pid in workers]
    assert "granian" in supervisor
    for library in ("sqlalchemy", "cryptography/hazmat", "_argon2"):
        assert library not in supervisor
        assert sum(library in maps for maps in worker_maps) == 2  # two workers
