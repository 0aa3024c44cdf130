"""`identity serve` refuses a bad worker or thread count in one line naming where it came from."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from identity.config import generate_secrets

BIN = Path(sys.executable).parent


def serve(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("IDENTITY_")}
    return subprocess.run(
        [str(BIN / "identity"), "serve", *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("args", "env", "line"),
    [
        ((), {"IDENTITY_WORKERS": "0"}, "IDENTITY_WORKERS: must be a whole number of at least 1"),
        ((), {"IDENTITY_THREADS": "0"}, "IDENTITY_THREADS: must be a whole number of at least 1"),
        ((), {"IDENTITY_THREADS": "many"}, "IDENTITY_THREADS: must be a whole number"),
        (("--workers", "0"), {}, "--workers: must be a whole number of at least 1"),
        (("--threads", "-3"), {}, "--threads: must be a whole number of at least 1"),
        ((), {"IDENTITY_BIND": "nowhere"}, "IDENTITY_BIND: must be HOST:PORT"),
        (("--bind", "host:99999"), {}, "--bind: must be HOST:PORT"),
    ],
)
def test_bad_serve_option_is_one_line_and_exit_2(
    args: tuple[str, ...], env: dict[str, str], line: str
) -> None:
    """No usage block: exactly one stderr line, naming the variable or the option, exit code 2."""
    done = serve(*args, **env)
    assert done.returncode == 2
    assert done.stderr.startswith(f"identity: {line}")
    assert done.stderr.count("\n") == 1
    assert done.stdout == ""


def test_the_flask_entry_point_answers_in_the_same_one_line(tmp_path: Path) -> None:
    """`flask --app wsgi identity serve` (the documented alternative) gives the same line."""
    root = Path(__file__).resolve().parents[2]
    base = {k: v for k, v in os.environ.items() if not k.startswith("IDENTITY_")}
    env = {**base, "IDENTITY_WORKERS": "0", "IDENTITY_INSTANCE_DIR": str(tmp_path)}
    env.update(generate_secrets())
    done = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", "identity", "serve"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr == (
        "identity: IDENTITY_WORKERS: must be a whole number of at least 1, not '0'\n"
    )
