"""Fixtures shared by the integration tests: fresh instance folders and served instances."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests import backends
from tests.integration.test_serve import BIN, ROOT, instance_env, served  # noqa: F401 - fixtures

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


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        args, cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def env(instance_env: dict[str, str], tmp_path: Path) -> dict[str, str]:  # noqa: F811
    """``instance_env`` plus, on the PostgreSQL run, Redis for the broker's shared state."""
    values = dict(instance_env)
    if backends.BACKEND == "postgres":
        values["REDIS_URL"] = backends.REDIS_URL
        values["IDENTITY_REDIS_PREFIX"] = f"{backends.SESSION_PREFIX}{tmp_path.name}:"
    return values


def prepare(env: dict[str, str], upstream: str) -> str:
    """`identity init`, the connection ``sms`` to ``upstream``, and an upstream:read token."""
    run(env, str(BIN / "identity"), "init")
    return run(env, str(BIN / "python"), "-c", SETUP, upstream).strip().splitlines()[-1]
