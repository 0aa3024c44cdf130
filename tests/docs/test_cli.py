"""One clean `identity` command tree, and the Flask routes to it still work."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path
from typing import Any

from identity import DISTRIBUTION

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_version_comes_from_the_installed_distribution() -> None:
    out = run(str(BIN / "identity"), "--version", env={"PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"identity, version {importlib.metadata.version(DISTRIBUTION)}"


def test_help_shows_our_commands_and_no_flask_options() -> None:
    out = run(str(BIN / "identity"), "--help", env={"PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    for flask_option in ("--app", "--debug", "--env-file"):
        assert flask_option not in out.stdout
    commands = [
        line.split()[0] for line in out.stdout.split("Commands:")[1].splitlines() if line.strip()
    ]
    assert "identity" not in commands  # no group repeating the whole CLI
    for name in ("init", "serve", "clients", "api-keys", "upstream", "keys", "users"):
        assert name in commands


def test_flask_cli_still_reaches_the_group(instance_env: dict[str, str]) -> None:
    init = run(str(BIN / "identity"), "init", env=instance_env)
    assert init.returncode == 0, init.stderr
    out = run(
        str(BIN / "flask"),
        "--app",
        "wsgi",
        "identity",
        "clients",
        "list",
        "--json",
        env=instance_env,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().startswith(("[", "{"))


def test_app_cli_runner_invokes_the_group(app: Any) -> None:
    result = app.test_cli_runner().invoke(
        args=["identity", "clients", "create", "--name", "cli", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert '"client_id"' in result.output
