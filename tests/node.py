"""Node.js packages for tests that check our tokens with real JavaScript libraries."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.backends import IN_CI


def npm_folder(tmp_path_factory: pytest.TempPathFactory, package: str) -> Path:
    """A fresh folder with ``package`` installed by npm; skips (fails in CI) without node."""
    if not (shutil.which("node") and shutil.which("npm")):
        if IN_CI:
            pytest.fail("CI=true and node/npm are missing")
        pytest.skip("node/npm not installed")
    folder = tmp_path_factory.mktemp("node")
    command = ["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(folder)]
    subprocess.run([*command, package], check=True, capture_output=True, timeout=180)
    return folder
