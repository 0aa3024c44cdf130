"""The shell blocks of README.md and docs/*.md: which the suite runs, and which are examples.

Every fenced shell block (```bash, ```sh, ```shell, ```console) carries one marker on the line
before it (blank lines may sit between):

    <!-- run -->          The suite runs it as written, in page order, under
                          ``bash -euo pipefail``, against a live ``identity serve``
                          (tests/docs/test_page_walkthroughs.py, both backends). A docs page's
                          blocks run after README's quick start in the same shell, so they may
                          use what it sets ($BASE, $IDENTITY, field, $CLIENT_ID, ...); anything
                          else the page sets itself, or says in one line which page to run
                          first. ``127.0.0.1:8000`` and the mock's port ``9090`` are replaced
                          by free ports.
    <!-- run: server -->  The page's "terminal 1": started in the background before the page's
                          ``run`` blocks, with ``make run`` replaced by what it does on a free
                          port. A page with one does not get README's blocks first.
    <!-- example -->      Cannot run here (a production host, a cluster). Its first line is a
                          comment beginning ``# Example`` that a reader sees, and every value to
                          fill in is an ``<angle-bracket placeholder>`` (never ``...`` or
                          ``xxxxx``). tests/docs/test_doc_blocks.py checks every block is
                          marked and every example looks like one.

Other fences (```json, ```text, plain ```) are not shell and are left alone. A page whose
blocks need more than a live server is run by its own test, named in ``RUN_ELSEWHERE``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHELL = ("bash", "sh", "shell", "console")
RUN_ELSEWHERE = {"install.md": "tests/docs/test_wheel.py"}  # builds a wheel into a fresh venv
# An optional marker line, optional blank lines, then a fence up to its closing fence.
_FENCE = re.compile(
    r"(?:^[ \t]*<!-- (?P<marker>run|run: server|example) -->\n(?:[ \t]*\n)*)?"
    r"^(?P<indent>[ \t]*)```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
    re.MULTILINE | re.DOTALL,
)


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    lang: str
    marker: str | None  # "run", "run: server", "example" or None
    body: str

    @property
    def shell(self) -> bool:
        return self.lang in SHELL

    def __str__(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def doc_pages() -> list[Path]:
    """README.md, then docs/*.md: every page whose shell blocks must be marked."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks(path: Path) -> list[Block]:
    text = path.read_text()
    found = []
    for match in _FENCE.finditer(text):
        start = match.start("indent")
        found.append(
            Block(
                page=path,
                line=text.count("\n", 0, start) + 1,
                lang=match.group("lang"),
                marker=match.group("marker"),
                body=match.group("body"),
            )
        )
    return found


def runnable_blocks(path: Path) -> list[str]:
    """The ``<!-- run -->`` blocks of a page, in page order."""
    return [block.body for block in blocks(path) if block.marker == "run"]


def server_block(path: Path) -> str | None:
    """The page's ``<!-- run: server -->`` block, if it has one."""
    served = [block.body for block in blocks(path) if block.marker == "run: server"]
    assert len(served) <= 1, f"{path.name}: one server block at most"
    return served[0] if served else None
