"""README.md's quick start, run as written against a live server on both backends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from tests.docs.runnable import runnable_blocks
from tests.integration.test_serve import free_port

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
pytestmark = pytest.mark.slow


def test_readme_has_the_three_quick_start_blocks_and_stays_short() -> None:
    blocks = runnable_blocks(README)
    text = "\n".join(blocks)
    assert len(README.read_text().splitlines()) <= 300
    for needle in ("/access_token", "/v1/inbox/tokens", "/upstream/connections/sms/authorization"):
        assert needle in text, needle


def test_a_block_that_fails_fails_the_runner(tmp_path: Path) -> None:
    """The extractor finds marked blocks only, and `bash -euo pipefail` stops at a failure."""
    page = tmp_path / "page.md"
    page.write_text(
        "```bash\necho unmarked\n```\n<!-- run -->\n```bash\nfalse | true\necho ok\n```\n"
        "<!-- run -->\n\n```bash\ncurl -sf http://127.0.0.1:1/ | cat\necho unreachable\n```\n"
    )
    blocks = runnable_blocks(page)
    assert blocks == [
        "false | true\necho ok\n",
        "curl -sf http://127.0.0.1:1/ | cat\necho unreachable\n",
    ]
    run = subprocess.run(["bash", "-euo", "pipefail", "-c", "\n".join(blocks)], capture_output=True)
    assert run.returncode != 0
    assert b"unreachable" not in run.stdout


def test_readme_quick_start_runs_as_written(served: tuple[str, dict[str, str], Any]) -> None:
    base, env, _ = served
    mock_port = free_port()
    script = "\n".join(runnable_blocks(README))
    # Print what the blocks set, so the test can check the tokens themselves.
    script += '\necho "ACCESS_TOKEN=$ACCESS_TOKEN"\necho "INBOX_TOKEN=$INBOX_TOKEN"\n'
    proc = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=ROOT,
        env={**env, "BASE": base, "MOCK_PORT": str(mock_port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # the mock the README starts in the background dies with it
    )
    try:
        out, err = proc.communicate(timeout=180)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    stdout = out.decode()
    assert proc.returncode == 0, f"{stdout}\n{err.decode()}"

    values = dict(line.split("=", 1) for line in stdout.splitlines() if "_TOKEN=" in line)
    jwks = httpx.get(f"{base}/.well-known/jwks.json").json()
    key = jwt.PyJWK.from_json(json.dumps(jwks["keys"][0])).key
    access = jwt.decode(
        values["ACCESS_TOKEN"], key, algorithms=["RS256"], options={"verify_aud": False}
    )
    assert access["scope"] == "profile:read"
    inbox = jwt.decode(values["INBOX_TOKEN"], key, algorithms=["RS256"])
    assert inbox["sub"] == "user:user-42"
    assert '"active": true' in stdout.replace('"active":true', '"active": true')
    assert "IBSSO " in stdout  # the brokered header from the mock upstream
    assert "BEGIN PUBLIC KEY" in stdout
