"""`make docs`: the pages build into a site with no broken link or nav entry (strict)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_docs_build_strict_with_the_generated_cli_reference(tmp_path: Path) -> None:
    pytest.importorskip("material", reason="the docs extra is not installed (make docs adds it)")
    pytest.importorskip("mkdocs_click", reason="the docs extra is not installed")
    site = tmp_path / "site"
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    cli_page = (site / "cli" / "index.html").read_text()
    # Options only the generated reference names: it comes from identity.cli, so it cannot drift.
    for option in ("--bind", "--threads", "--secret-stdin", "--password-stdin"):
        assert option in cli_page, option
    assert (site / "configuration" / "index.html").is_file()
