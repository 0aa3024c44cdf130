"""Request bodies, read once and strictly (no Flask): form (RFC 6749 §4.4.2) or JSON.

One JSON reader for every route (``json_body``) and the OAuth endpoints (``body_pairs``). It
refuses what the standard library would accept but the service must not act on:
duplicate members (RFC 8259 §4 leaves them undefined; "last wins" let a second ``username``
override the first), nesting deeper than ``MAX_DEPTH`` (deep nesting used to end in a
RecursionError), lone surrogates (not Unicode scalar values, RFC 8259 §8.2; they cannot be
encoded for hashing), U+0000 (PostgreSQL text cannot hold it), ``NaN``/``Infinity`` (not JSON)
and bodies that are not UTF-8 (RFC 8259 §8.1).
"""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn
from urllib.parse import parse_qsl

from identity.errors import BadRequest

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
MAX_DEPTH = 32  # arrays and objects inside each other; our bodies need 3
_PLAIN = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


class BodyRefused(ValueError):
    """A body or parameter breaks the reading rules; ``str()`` says which, safe to show."""

    def __init__(self, text: str, field: str | None = None) -> None:
        super().__init__(text)
        self.field = field  # the member's path ("a.b.0") when one is to blame


def check_text(value: str, field: str | None = None) -> None:
    """Refuse U+0000 and lone surrogates in any text read from a request."""
    if "\x00" in value:
        raise BodyRefused("Text must not contain U+0000", field)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BodyRefused(
            "Text must not contain lone surrogates (U+D800 to U+DFFF)", field
        ) from None


def _shown(name: str) -> str:
    """The name when plain printable ASCII (RFC 6749 §5.2 limits error_description so)."""
    return f": '{name}'" if _PLAIN.fullmatch(name) else ""


def _members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members: dict[str, Any] = {}
    for name, value in pairs:
        if name in members:
            shown = _shown(name)
            raise BodyRefused(f"Duplicate member in the JSON body{shown}", shown and name)
        members[name] = value
    return members


def _not_json(constant: str) -> NoReturn:
    raise BodyRefused(f"{constant} is not JSON")


def _check_tree(document: Any) -> None:
    """Depth and text rules over the parsed document, without recursion."""
    stack: list[tuple[Any, int, str]] = [(document, 0, "")]
    while stack:
        node, depth, path = stack.pop()
        if isinstance(node, str):
            check_text(node, path or None)
        elif isinstance(node, dict | list):
            if depth >= MAX_DEPTH:
                raise BodyRefused(f"The JSON body is nested deeper than {MAX_DEPTH} levels")
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for name, value in items:
                inner = f"{path}.{name}" if path else str(name)
                if isinstance(name, str):
                    check_text(name, path or None)  # never echo the offending name itself
                stack.append((value, depth + 1, inner))


def _strict_loads(raw: bytes | str) -> Any:
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        document = json.loads(text, object_pairs_hook=_members, parse_constant=_not_json)
    except RecursionError:
        raise BodyRefused(f"The JSON body is nested deeper than {MAX_DEPTH} levels") from None
    except BodyRefused:
        raise
    except ValueError:  # JSONDecodeError, UnicodeDecodeError, over-long integers
        raise BodyRefused("Malformed JSON body") from None
    _check_tree(document)
    return document


def json_body(raw: bytes | str) -> Any:
    """The JSON document in ``raw`` under the rules above; ``BadRequest`` if it breaks one."""
    try:
        return _strict_loads(raw)
    except BodyRefused as exc:
        errors = {exc.field: [str(exc)]} if exc.field else None
        raise BadRequest(str(exc), errors) from None


def _json_pairs(raw: bytes) -> list[tuple[str, Any]]:
    document = _strict_loads(raw)
    if not isinstance(document, dict):
        raise BodyRefused("The JSON body must be an object")
    return list(document.items())


def body_pairs(mimetype: str, raw: bytes) -> list[tuple[str, Any]]:
    """The body's parameters in order, repeats kept; ``BodyRefused`` if unreadable."""
    if mimetype == JSON:
        return _json_pairs(raw)
    if mimetype == FORM:
        try:  # parse_qsl on the raw body: much cheaper than werkzeug's streaming form parser
            return parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
        except (UnicodeDecodeError, ValueError):
            raise BodyRefused("Malformed form body") from None
    if raw:
        raise BodyRefused(f"Send the parameters as {FORM} or application/json")
    return []


def json_object(raw: bytes) -> dict[str, Any]:
    """A JSON object body under the reading rules; ``BadRequest`` (Infobip shape) otherwise."""
    document = json_body(raw)
    if not isinstance(document, dict):
        raise BadRequest("The JSON body must be an object")
    return document
