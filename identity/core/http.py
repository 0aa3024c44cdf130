"""The request and response a core sees: plain values, no framework.

A core is ``handle(request) -> Response`` and raises ``identity.errors.IdentityError`` for every
other outcome; ``identity.core.errors`` renders those.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import Any, Protocol

from identity.errors import MethodNotAllowed

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

    @property
    def mimetype(self) -> str:
        return (self.headers.get("Content-Type") or "").partition(";")[0].strip().lower()

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


Handler = Callable[[Request], Response]


def by_method(request: Request, handlers: Mapping[str, Handler]) -> Response:
    """Dispatch on the method; OPTIONS lists them, HEAD follows GET, anything else is 405."""
    allowed = sorted({*handlers, "OPTIONS", *(("HEAD",) if "GET" in handlers else ())})
    method = "GET" if request.method == "HEAD" and "GET" in handlers else request.method
    handler = handlers.get(method)
    if handler is not None:
        response = handler(request)
        if request.method == "HEAD":
            response.body = b""
        return response
    if request.method == "OPTIONS":
        return Response(200, b"", [("Allow", ", ".join(allowed))], content_type=None)
    raise MethodNotAllowed(allowed)  # RFC 9110 §15.5.6: with Allow
