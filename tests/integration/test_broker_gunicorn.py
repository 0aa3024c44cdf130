"""Single flight across real worker processes: gunicorn, 2 workers × 8 threads, 50 readers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from identity.devtools.mock_infobip import MockInfobip
from tests import backends
from tests.broker_helpers import concurrently

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.slow
SETUP = (  # one interpreter start: add the connection and mint an upstream:read token
    "import sys\n"
    "from identity.app import create_app\n"
    "from identity.extensions import services\n"
    "from identity.services.upstream import NewConnection\n"
    "app = create_app()\n"
    "with app.app_context():\n"
    "    services().upstream.add(NewConnection(name='sms', method='ibsso', "
    "base_url=sys.argv[1], username='user', secret='pass'))\n"
    "    print(services().tokens.issue_access_token('t', 'upstream:read', 600).token)\n"
)


def _run(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        args, cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    values = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("IDENTITY_", "DATABASE_URL", "REDIS_URL"))
    }
    values.update(
        IDENTITY_INSTANCE_DIR=str(tmp_path / "instance"),
        IDENTITY_LOG_LEVEL="WARNING",
        IDENTITY_WORKERS="2",
        IDENTITY_THREADS="8",
    )
    if backends.BACKEND == "postgres":
        values["DATABASE_URL"] = backends.create_pg_database()
        values["REDIS_URL"] = backends.REDIS_URL
        values["IDENTITY_REDIS_PREFIX"] = f"identity-test:{tmp_path.name}:"
    yield values
    if backends.BACKEND == "postgres":
        backends.drop_pg_database(values["DATABASE_URL"])


def test_50_readers_on_two_gunicorn_workers_make_one_upstream_call(env: dict[str, str]) -> None:
    """Two worker processes, 50 concurrent cold reads: one login, one token for everybody."""
    from bench.harness import free_port

    with MockInfobip(latency=0.5) as mock:
        _run(env, str(BIN / "identity"), "init")
        output = _run(env, str(BIN / "python"), "-c", SETUP, mock.base_url)
        token = output.strip().splitlines()[-1]
        port = free_port()
        proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"]
            + ["wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait(f"{base}/healthz")
            url = f"{base}/upstream/connections/sms/authorization"
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(timeout=30) as client:
                answers = concurrently(50, lambda i: client.get(url, headers=headers))
        finally:
            proc.terminate()
            proc.wait(timeout=20)
        assert {r.status_code for r in answers} == {200}
        assert len({r.json()["authorization"] for r in answers}) == 1
        assert mock.calls["POST /auth/1/session"] == 1


def _wait(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not start")
