"""The one rule for identifiers that arrive in a URL path (client ids, key ids, names).

A path segment is 1-256 characters with no control character: U+0000 cannot be stored in
PostgreSQL text and no identifier we issue or accept contains a control character, so such a
segment names nothing (404) instead of reaching the database.
"""

from __future__ import annotations

import re

MAX_SEGMENT = 256
SEGMENT_PATTERN = rf"[^/\x00-\x1f\x7f]{{1,{MAX_SEGMENT}}}"
SEGMENT = re.compile(SEGMENT_PATTERN)


def is_identifier(value: str) -> bool:
    """Whether ``value`` may name something (the same rule as the path converter)."""
    return SEGMENT.fullmatch(value) is not None
