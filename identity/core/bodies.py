"""Request bodies, read once and strictly (no Flask): form (RFC 6749 §4.4.2) or JSON."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from authlib.oauth2.rfc6749 import InvalidRequestError

from identity.errors import BadRequest

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


class _Pairs(list[tuple[str, Any]]):
    """A JSON object's members in order, repeats kept (so that they can be refused)."""


def _json_pairs(raw: bytes) -> list[tuple[str, Any]]:
    try:
        pairs: Any = json.loads(raw, object_pairs_hook=_Pairs)
    except (ValueError, RecursionError):
        raise InvalidRequestError("Malformed JSON body") from None
    if not isinstance(pairs, _Pairs):
        raise InvalidRequestError("The JSON body must be an object")
    return pairs


def body_pairs(mimetype: str, raw: bytes) -> list[tuple[str, Any]]:
    """The body's parameters in order, repeats kept; ``InvalidRequestError`` if unreadable."""
    if mimetype == JSON:
        return _json_pairs(raw)
    if mimetype == FORM:
        try:  # parse_qsl on the raw body: much cheaper than werkzeug's streaming form parser
            return parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
        except (UnicodeDecodeError, ValueError):
            raise InvalidRequestError("Malformed form body") from None
    if raw:
        raise InvalidRequestError(f"Send the parameters as {FORM} or application/json")
    return []


def single_params(pairs: list[tuple[str, Any]]) -> dict[str, str]:
    """Each parameter at most once; an empty one is absent (RFC 6749 §3.2)."""
    params: dict[str, str] = {}
    for name, value in pairs:
        if not isinstance(value, str):
            raise InvalidRequestError("Parameter values must be strings")
        if value == "":
            continue  # RFC 6749 §3.2: sent without a value = omitted
        if name in params:
            raise InvalidRequestError("A parameter was sent more than once")
        params[name] = value
    return params


def json_object(raw: bytes) -> dict[str, Any]:
    """A JSON object body, each member once; ``BadRequest`` (Infobip shape) otherwise."""
    try:
        pairs = _json_pairs(raw)
    except InvalidRequestError as exc:
        raise BadRequest(exc.description) from None
    document = dict(pairs)
    if len(document) != len(pairs):
        raise BadRequest("A JSON member was sent more than once")
    return document
