"""The request and response a core sees: plain values, no framework.

A core is ``handle(request) -> Response`` and raises ``identity.errors.IdentityError`` for every
other outcome; ``identity.core.errors`` renders those.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import Any, Protocol

from marshmallow import Schema, ValidationError

from identity.core.bodies import json_object
from identity.errors import BadRequest

JSON_TYPE = "application/json"
NO_STORE = (("Cache-Control", "no-store"), ("Pragma", "no-cache"))  # RFC 6749 §5.1


class Headers(Protocol):
    """Request headers looked up by name, case-insensitively (WSGI environ or werkzeug)."""

    def get(self, key: str, /) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request: ``headers`` is case-insensitive (``get("Authorization")``)."""

    method: str
    path: str
    headers: Headers
    body: bytes = b""
    remote_addr: str = "-"
    params: Mapping[str, str] = field(default_factory=dict)  # from the path (``<name>``)
    schema: type[Schema] | None = None  # the operation's declared JSON body
    body_required: bool = True

    @property
    def mimetype(self) -> str:
        return (self.headers.get("Content-Type") or "").partition(";")[0].strip().lower()

    def args(self) -> dict[str, Any]:
        """The JSON object body loaded by the declared schema (unknown fields refused); read
        it after authenticating the caller, so a stranger learns nothing of the schema."""
        if self.schema is None or (not self.body and not self.body_required):
            return {}
        if self.mimetype != JSON_TYPE:
            raise BadRequest("Send a JSON body (Content-Type: application/json)")
        try:
            return dict(self.schema().load(json_object(self.body)))
        except ValidationError as exc:
            raise BadRequest("Invalid request", validation_errors(exc.messages)) from None

    def cookie(self, name: str) -> str | None:
        raw = self.headers.get("Cookie")
        if not raw:
            return None
        try:
            morsel = SimpleCookie(raw).get(name)
        except CookieError:
            return None
        return morsel.value if morsel is not None else None


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str | None = JSON_TYPE


def json_response(
    status: int, payload: Any, headers: tuple[tuple[str, str], ...] | list[tuple[str, str]] = ()
) -> Response:
    """Compact JSON, members in the order given (``jsonify``'s trailing newline included)."""
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=True).encode() + b"\n"
    return Response(status, body, list(headers))


def validation_errors(data: Any) -> dict[str, list[str]]:
    """Flatten webargs/marshmallow messages into ``{"field": ["message"]}``."""
    messages = data.get("messages", data) if isinstance(data, dict) else {}
    flat: dict[str, list[str]] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list):
            flat.setdefault(prefix or "_schema", []).extend(str(v) for v in value)
        else:
            flat.setdefault(prefix or "_schema", []).append(str(value))

    for location in ("json", "form", "query", "headers", "json_or_form", "files"):
        if isinstance(messages, dict) and location in messages:
            walk("", messages.pop(location))
    if isinstance(messages, dict) and messages:
        walk("", messages)
    return flat
