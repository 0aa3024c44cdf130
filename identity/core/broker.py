"""``GET /upstream/connections/<name>/authorization`` (docs/broker.md): the header to call with."""

from __future__ import annotations

from typing import Any

from identity.broker.model import Token
from identity.core.auth import Credentials
from identity.core.http import NO_STORE, Request, Response, by_method, json_response
from identity.services.upstream import UpstreamService, rfc3339

UPSTREAM_READ = "upstream:read"  # the access-token scope of the caller endpoints


def authorization_body(token: Token) -> dict[str, Any]:
    return {
        "authorization": token.header,
        "token_type": token.token_type,
        "expires_at": rfc3339(token.expires_at),
    }


class AuthorizationEndpoint:
    oauth = False

    def __init__(self, upstream: UpstreamService, credentials: Credentials) -> None:
        self.upstream = upstream
        self.credentials = credentials

    def __repr__(self) -> str:
        return "AuthorizationEndpoint()"

    def handle(self, request: Request, name: str) -> Response:
        return by_method(request, {"GET": lambda r: self._read(r, name)})

    def _read(self, request: Request, name: str) -> Response:
        """Cached, refreshed ahead, one upstream call per refresh (``identity.broker``)."""
        self.credentials.access(request.headers, [UPSTREAM_READ])
        token = self.upstream.authorization(name)
        return json_response(200, authorization_body(token), NO_STORE)
