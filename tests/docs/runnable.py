"""Fenced ```bash blocks marked ``<!-- run -->`` in a Markdown file, in document order."""

from __future__ import annotations

import re
from pathlib import Path

# A marker line, optional blank lines, then a ```bash fence up to the closing fence.
_BLOCK = re.compile(r"^<!-- run -->\n(?:\s*\n)*```bash\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)


def runnable_blocks(path: Path) -> list[str]:
    return [match.group(1) for match in _BLOCK.finditer(path.read_text())]
