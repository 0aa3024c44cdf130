"""docs/install.md as written: the wheel, installed into an empty virtual environment, gives the
`identity` command, which initialises and serves."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from identity import DISTRIBUTION
from tests.docs.runnable import runnable_blocks
from tests.integration.test_serve import free_port

ROOT = Path(__file__).resolve().parents[2]
INSTALL = ROOT / "docs" / "install.md"
pytestmark = pytest.mark.slow


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    out = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, f"{args}\n{out.stdout}\n{out.stderr}"
    return out.stdout


def test_the_distribution_has_a_name_of_its_own() -> None:
    """``identity`` on PyPI is someone else's library; the wheel is named after ours."""
    assert DISTRIBUTION == "msgstack-identity"
    assert "msgstack_identity-*.whl" in INSTALL.read_text()


def test_installed_wheel_answers_version_help_and_serves(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    script = "\n".join(runnable_blocks(INSTALL)) + '\necho "WHEEL_ENV=$WHEEL_ENV"\n'
    out = run("bash", "-euo", "pipefail", "-c", script, cwd=ROOT)
    assert "identity, version " in out
    venv = Path(out.strip().splitlines()[-1].split("=", 1)[1])

    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(home),
        "IDENTITY_INSTANCE_DIR": str(home / "instance"),
        "IDENTITY_LOG_LEVEL": "WARNING",
    }
    identity = str(venv / "bin" / "identity")
    installed = run(str(venv / "bin" / "pip"), "list", "--format=freeze", cwd=home, env=env)
    assert f"{DISTRIBUTION}==" in installed
    assert "--bind" in run(identity, "serve", "--help", cwd=home, env=env)
    run(identity, "init", cwd=home, env=env)

    port = free_port()
    server = subprocess.Popen(
        [identity, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=home,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(300):
            if server.poll() is not None:
                pytest.fail(server.stderr.read().decode() if server.stderr else "exited")
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("the installed server never answered")
        assert response.status_code == 200
        jwks = httpx.get(f"http://127.0.0.1:{port}/.well-known/jwks.json").json()
        assert len(jwks["keys"]) == 1  # `identity init` made a key from the packaged migrations
    finally:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=30)
        subprocess.run(["rm", "-rf", str(venv.parent)], check=False)
