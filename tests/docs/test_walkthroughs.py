"""Walk-throughs in docs/ marked runnable, run as written against a live server."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.docs.runnable import runnable_blocks
from tests.integration.test_serve import BIN, ROOT, free_port, start_server, wait_ready

pytestmark = pytest.mark.slow


@pytest.fixture
def exchange_served(instance_env: dict[str, str]) -> Iterator[str]:
    """The mock (Infobip + Exchange) and identity configured for it, as docs/exchange.md says."""
    mock_port, port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **instance_env,
        "IDENTITY_ISSUER": base,
        "IDENTITY_EXCHANGE_BASE_URL": f"http://127.0.0.1:{mock_port}",
        "IDENTITY_EXCHANGE_CLIENT_ID": "local-app",
        "IDENTITY_COOKIE_SECURE": "false",
    }
    mock = subprocess.Popen(
        [str(BIN / "identity"), "mock-infobip", "--port", str(mock_port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    init = subprocess.run([str(BIN / "identity"), "init"], cwd=ROOT, env=env, capture_output=True)
    assert init.returncode == 0, init.stderr.decode()
    server = start_server(env, port, "--workers", "1")
    try:
        wait_ready(f"{base}/readyz", server)
        yield base
    finally:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=15)
        mock.terminate()
        mock.wait(timeout=15)


def run_blocks(page: Path, env: dict[str, str]) -> str:
    script = "\n".join(runnable_blocks(page))
    assert script, f"{page.name} has no runnable block"
    run = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, f"{run.stdout}\n{run.stderr}"
    return run.stdout


def test_exchange_walk_through_connects_and_brokers(
    exchange_served: str, instance_env: dict[str, str]
) -> None:
    out = run_blocks(ROOT / "docs" / "exchange.md", {**instance_env, "BASE": exchange_served})
    assert "Connected as developeruser" in out
    assert '"authorization":"IBSSO ' in out.replace(": ", ":")
