"""Every shell block of README.md and docs/ is either run by the suite or marked an example
(the markers: tests/docs/runnable.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.docs.runnable import Block, blocks, doc_pages

SHELL_BLOCKS = [block for page in doc_pages() for block in blocks(page) if block.shell]
EXAMPLES = [block for block in SHELL_BLOCKS if block.marker == "example"]
PLACEHOLDER = re.compile(r"<[a-z][^<>\n]*>")
VAGUE = re.compile(r"=\.\.\.|x{5}|\bNEW_TAG\b|https://id\.example\b")


def test_every_shell_block_is_run_or_marked_an_example() -> None:
    unmarked = [str(block) for block in SHELL_BLOCKS if block.marker is None]
    assert not unmarked, f"mark these (tests/docs/runnable.py says how): {unmarked}"
    assert len([b for b in SHELL_BLOCKS if b.marker == "run"]) >= 20


@pytest.mark.parametrize("block", EXAMPLES, ids=[str(block) for block in EXAMPLES])
def test_an_example_says_so_and_names_what_to_fill_in(block: Block) -> None:
    """Its first line, visible on the page, says it is an example; values are <placeholders>."""
    assert block.body.lstrip().startswith("# Example"), block.body.splitlines()[0]
    assert not VAGUE.search(block.body), VAGUE.search(block.body)


def test_production_values_appear_only_as_placeholders_in_examples() -> None:
    """A host of a real deployment cannot be run here, so only an example may name one."""
    for block in SHELL_BLOCKS:
        if block.marker != "example":
            assert not re.search(r"https://(?!127\.0\.0\.1|localhost)", block.body), str(block)


def test_the_block_finder_sees_markers_indentation_and_other_languages(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "<!-- run -->\n```bash\necho one\n```\n\n1. Step:\n\n   <!-- example -->\n"
        "   ```sh\n   # Example: fill in <host>\n   ```\n\n```json\n{}\n```\n\n```sh\nls\n```\n"
    )
    found = [(b.lang, b.marker, b.line) for b in blocks(page)]
    assert found == [("bash", "run", 2), ("sh", "example", 9), ("json", None, 13), ("sh", None, 17)]
    assert PLACEHOLDER.search(blocks(page)[1].body)


def test_nothing_cites_a_document_outside_the_project() -> None:
    """Code, comments and pages cite our own pages or the RFC, never the contract's sections."""
    citation = re.compile("contract " + "\N{SECTION SIGN}", re.IGNORECASE)  # kept out of this file
    root = doc_pages()[0].parent
    files = [*doc_pages(), *root.glob("identity/**/*.py"), *root.glob("tests/**/*.py")]
    citing = [str(f.relative_to(root)) for f in files if citation.search(f.read_text())]
    assert not citing
