"""A serving worker imports what it serves: not the migration tool, nor the command tree."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from identity.config import generate_secrets

PROBE = (
    "import sys\n"
    "from identity.app import create_app\n"
    "app = create_app()\n"
    "print(__import__('json').dumps(sorted(sys.modules)))\n"
)


def test_create_app_leaves_alembic_and_the_cli_areas_unimported(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDENTITY_")}
    env.update(generate_secrets())
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'identity.db'}"
    env["IDENTITY_INSTANCE_DIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    loaded = set(json.loads(done.stdout))
    assert "identity.http.admin" in loaded  # the app itself is there
    for module in ("alembic", "flask_migrate", "mako", "identity.commands.clients"):
        assert module not in loaded


def test_the_command_line_still_finds_every_area(tmp_path: Path) -> None:
    """The area commands load when a command line asks for them (`flask --app ... identity`)."""
    from identity.app import create_app
    from tests.conftest import TEST_SECRETS

    app = create_app({**TEST_SECRETS, "database_url": f"sqlite:///{tmp_path / 'x.db'}"})
    listed = app.test_cli_runner().invoke(args=["identity", "--help"]).output
    for area in ("clients", "api-keys", "keys", "upstream", "inbox-apps", "users", "serve"):
        assert area in listed
