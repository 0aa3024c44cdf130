"""Fixtures shared by the integration tests: fresh instance folders and served instances."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
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
    )
    if backends.BACKEND == "postgres":
        values["DATABASE_URL"] = backends.create_pg_database()
        values["REDIS_URL"] = backends.REDIS_URL
        values["IDENTITY_REDIS_PREFIX"] = f"identity-test:{tmp_path.name}:"
    yield values
    if backends.BACKEND == "postgres":
        backends.drop_pg_database(values["DATABASE_URL"])


def prepare(env: dict[str, str], upstream: str) -> str:
    """`identity init`, the connection ``sms`` to ``upstream``, and an upstream:read token."""
    run(env, str(BIN / "identity"), "init")
    return run(env, str(BIN / "python"), "-c", SETUP, upstream).strip().splitlines()[-1]
