"""`make docs`: the pages build strictly into a site that reads right: the README as home page,
real CLI defaults, lists that render, and no link leading out of the site."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
# A paragraph holding a line that starts like a list item: the list did not render (Python-
# Markdown needs a blank line before a list, and four spaces to nest under an item).
BROKEN_LIST = re.compile(r"<p>(?:(?!</p>).)*\n[ \t]*(?:[-*+]|\d+\.)[ \t]+\S", re.DOTALL)
HREF = re.compile(r'(?:href|src)="([^"]+)"')
TAG = re.compile(r"<([a-z][a-z0-9-]*)[\s>/]")
# What Markdown and the theme emit; a <placeholder> written outside a code span would be taken
# for a tag and vanish from the page.
HTML_TAGS = set(
    "a abbr article aside b blockquote body br button code dd details div dl dt em footer form "
    "h1 h2 h3 h4 h5 h6 head header hr html i img input label li link main meta nav ol p path pre "
    "script section small span strong style sub summary sup svg table tbody td th thead title tr "
    "ul".split()
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("material", reason="the docs extra is not installed (make docs adds it)")
    pytest.importorskip("mkdocs_click", reason="the docs extra is not installed")
    site = tmp_path_factory.mktemp("site")
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    return site


def pages(site: Path) -> Iterator[tuple[Path, str]]:
    for page in sorted(site.glob("**/index.html")):
        if "assets" not in page.parts and "search" not in page.parts:
            yield page, page.read_text()


def test_docs_build_strict_with_the_generated_cli_reference(site: Path) -> None:
    cli_page = (site / "cli" / "index.html").read_text()
    # Options only the generated reference names: it comes from identity.cli, so it cannot drift.
    for option in ("--bind", "--threads", "--secret-stdin", "--password-stdin"):
        assert option in cli_page, option
    assert (site / "configuration" / "index.html").is_file()


def test_the_home_page_is_the_readme(site: Path) -> None:
    home = (site / "index.html").read_text()
    readme = (ROOT / "README.md").read_text()
    for heading in re.findall(r"^## (.+)$", readme, re.MULTILINE):
        assert heading.replace("&", "&amp;") in home, heading
    assert 'href="partners/"' in home  # README's docs/partners.md, rewritten for the site


def test_no_page_shows_a_click_sentinel(site: Path) -> None:
    for page, html in pages(site):
        assert "Sentinel." not in html, page.relative_to(site)
    cli_page = (site / "cli" / "index.html").read_text()
    assert "<code>False</code>" in cli_page  # a flag's real default
    assert "<code></code>" not in cli_page  # an empty default reads as ""
    assert "_required" not in cli_page  # mkdocs-click's unclosed emphasis


def test_no_placeholder_is_swallowed_as_a_tag(site: Path) -> None:
    """``<issuer>`` outside a code span is an unknown HTML tag: the page would lose the text."""
    for page, html in pages(site):
        unknown = set(TAG.findall(html)) - HTML_TAGS
        assert not unknown, f"{page.relative_to(site)}: {unknown} (put it in `backticks`)"


def test_every_list_renders_as_a_list(site: Path) -> None:
    for page, html in pages(site):
        broken = BROKEN_LIST.search(html)
        assert broken is None, f"{page.relative_to(site)}: {broken.group(0)[-200:]}"


def test_the_list_check_catches_a_list_run_into_a_paragraph() -> None:
    assert BROKEN_LIST.search("<p>Some text.\n3. <strong>Step</strong></p>")
    assert BROKEN_LIST.search("<p>Text\n- item</p>")
    assert not BROKEN_LIST.search("<p>Text</p>\n<ol>\n<li>Step</li></ol><p>x - y</p>")


def test_every_link_stays_inside_the_site(site: Path) -> None:
    """A relative link or asset resolves to a file of the built site (none to the repository)."""
    for page, html in pages(site):
        for target in HREF.findall(html):
            parts = urlsplit(target)
            if parts.scheme or parts.netloc or not parts.path:
                continue
            resolved = (page.parent / unquote(parts.path)).resolve()
            found = resolved / "index.html" if resolved.is_dir() else resolved
            assert found.is_file() and site.resolve() in found.parents, (
                f"{page.relative_to(site)} links to {target}"
            )


def test_variable_names_in_tables_do_not_wrap(site: Path) -> None:
    css = (site / "stylesheets" / "extra.css").read_text()
    assert "white-space: nowrap" in css
    assert "stylesheets/extra.css" in (site / "configuration" / "index.html").read_text()
