"""One declaration per endpoint: its path, its operations (method, handler, summary, schemas,
errors) and its error shape. The router, the 405/OPTIONS answers, the JSON body check and the
OpenAPI document (``identity.http.openapi``) are all driven by these declarations.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from marshmallow import Schema

from identity.core.bodies import FORM, JSON
from identity.core.http import Headers, Request, Response
from identity.core.identifiers import SEGMENT_PATTERN
from identity.errors import MethodNotAllowed

Handler = Callable[[Request], Response]
_PARAM = re.compile(r"<([a-z_]+)>")


@dataclass(frozen=True)
class Operation:
    handle: Handler
    summary: str
    tag: str
    response: type[Schema] | None = None  # the 200 body
    body: type[Schema] | None = None  # the request body
    body_types: tuple[str, ...] = (JSON,)  # JSON only: ``Request.args()`` loads it by ``body``
    body_required: bool = True
    errors: Mapping[int, str] = field(default_factory=dict)
    security: str | None = None  # "bearerAuth" | "apiKeyAuth"


@dataclass(frozen=True)
class Endpoint:
    rule: str  # "/upstream/connections/<name>/authorization"
    operations: Mapping[str, Operation]  # by method
    oauth: bool = False  # errors in the RFC 6749 §5.2 shape
    headers: Callable[[Headers, str], list[tuple[str, str]]] | None = None  # on every answer

    @property
    def allowed(self) -> list[str]:
        """RFC 9110 §9.3.2/§9.3.7: HEAD follows GET; OPTIONS is always answered."""
        methods = {*self.operations, "OPTIONS", *(("HEAD",) if "GET" in self.operations else ())}
        return sorted(methods)

    def answer(self, request: Request) -> Response:
        """The operation for the request's method; OPTIONS lists them; anything else is 405."""
        method = "GET" if request.method == "HEAD" else request.method
        operation = self.operations.get(method)
        if operation is None:
            if request.method == "OPTIONS":
                return Response(200, b"", [("Allow", ", ".join(self.allowed))], None)
            raise MethodNotAllowed(self.allowed)  # RFC 9110 §15.5.6: with Allow
        if operation.body is not None and operation.body_types == (JSON,):
            request = replace(request, schema=operation.body, body_required=operation.body_required)
        response = operation.handle(request)
        if request.method == "HEAD":
            response.body = b""
        return response


class Router:
    """Exact paths by dictionary; rules with ``<param>`` by one pattern each (the path-segment
    rule of ``identity.core.identifiers``: a segment breaking it names nothing)."""

    def __init__(self, endpoints: list[Endpoint]) -> None:
        self.endpoints = endpoints
        self._exact = {e.rule: e for e in endpoints if "<" not in e.rule}
        self._patterns = [(_pattern(e.rule), e) for e in endpoints if "<" in e.rule]

    def __repr__(self) -> str:
        return f"Router({len(self.endpoints)} endpoints)"

    @property
    def oauth_rules(self) -> frozenset[str]:
        return frozenset(e.rule for e in self.endpoints if e.oauth)

    def match(self, path: str) -> tuple[Endpoint, dict[str, str]] | None:
        endpoint = self._exact.get(path)
        if endpoint is not None:
            return endpoint, {}
        for pattern, candidate in self._patterns:
            found = pattern.fullmatch(path)
            if found is not None:
                return candidate, found.groupdict()
        return None


def _pattern(rule: str) -> re.Pattern[str]:
    """``/a/<name>/b`` → ``/a/(?P<name>SEGMENT)/b``."""
    parts = []
    for segment in rule.split("/"):
        param = _PARAM.fullmatch(segment)
        parts.append(f"(?P<{param.group(1)}>{SEGMENT_PATTERN})" if param else re.escape(segment))
    return re.compile("/".join(parts))


FORM_OR_JSON = (FORM, JSON)
