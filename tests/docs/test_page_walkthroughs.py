"""Each page's runnable walk-through, as written, against a live server (both backends).

The markers are described in tests/docs/runnable.py. A page's ``<!-- run: server -->`` block is
its "terminal 1": it runs as written, in the background, with ``make run`` replaced by what
``make run`` does on a free port. A page without one continues README's quick start in the same
shell, against a plain ``identity serve``.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.docs.runnable import RUN_ELSEWHERE, doc_pages, runnable_blocks, server_block
from tests.integration.test_serve import (  # noqa: F401 - instance_env is a fixture
    BIN,
    free_port,
    instance_env,
    start_server,
    wait_ready,
)

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PAGES = [
    page
    for page in doc_pages()
    if (runnable_blocks(page) or server_block(page)) and page.name not in RUN_ELSEWHERE
]
pytestmark = pytest.mark.slow


def _ports(script: str, port: int, mock_port: int) -> str:
    """The walk-throughs name 127.0.0.1:8000 and the mock's 9090; the test uses free ports."""
    return script.replace("127.0.0.1:8000", f"127.0.0.1:{port}").replace("9090", str(mock_port))


def _run_background(script: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["bash", "-c", "set -euo pipefail\n" + script],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # the mocks it starts die with its process group
    )


def _stop(proc: subprocess.Popen[bytes], sig: int, group: bool) -> tuple[bytes, bytes]:
    """Signal the process (or the group it leads), then end what is left of it."""
    _signal(proc, sig, group)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        pass
    # Background jobs of a non-interactive bash ignore SIGINT: end the mocks (and any straggler).
    _signal(proc, signal.SIGKILL, group)
    return proc.communicate(timeout=30)


def _signal(proc: subprocess.Popen[bytes], sig: int, group: bool) -> None:
    try:
        if group:
            os.killpg(proc.pid, sig)
        elif proc.poll() is None:
            proc.send_signal(sig)
    except ProcessLookupError:
        pass


def test_pages_with_walkthroughs_are_found() -> None:
    """README and the reference pages with commands are marked runnable (this suite runs them)."""
    names = {page.name for page in PAGES}
    assert {"README.md", "broker.md", "exchange.md", "partners.md", "inbox.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_page_walkthrough_runs_as_written(
    page: Path,
    instance_env: dict[str, str],  # noqa: F811 - the fixture imported above
) -> None:
    """Every runnable block of the page exits 0 under ``set -euo pipefail``."""
    port, mock_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**instance_env, "BASE": base, "MOCK_PORT": str(mock_port)}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    terminal_1 = server_block(page)
    if terminal_1 is not None:
        serve = f"identity init >&2 && exec identity serve --bind 127.0.0.1:{port} --workers 1"
        script = terminal_1.replace("make run", serve)
        server = _run_background(_ports(script, port, mock_port), env)
        blocks = runnable_blocks(page)
    else:
        init = subprocess.run(
            [str(BIN / "identity"), "init"], cwd=ROOT, env=env, capture_output=True
        )
        assert init.returncode == 0, init.stderr.decode()
        server = start_server(env, port, "--workers", "1")
        blocks = runnable_blocks(README) + runnable_blocks(page)
    try:
        wait_ready(f"{base}/readyz", server)
        walk = _run_background(_ports("\n".join(blocks), port, mock_port), env)
        try:
            out, err = walk.communicate(timeout=240)
        finally:
            _stop(walk, signal.SIGTERM, group=True)
        assert walk.returncode == 0, f"{page.name}:\n{out.decode()[-3000:]}\n{err.decode()[-3000:]}"
    finally:
        _stop(server, signal.SIGINT, group=terminal_1 is not None)
