"""``GET /upstream/connections/<name>/authorization`` (docs/broker.md): the header to call with."""

from __future__ import annotations

from typing import Any

from identity.broker.model import Token
from identity.core.auth import Credentials
from identity.core.http import NO_STORE, Request, Response, json_response
from identity.core.routes import Endpoint, Operation
from identity.core.schemas import AuthorizationSchema
from identity.services.upstream import UpstreamService, rfc3339

UPSTREAM_READ = "upstream:read"  # the access-token scope of the caller endpoints
ERRORS = {
    401: "missing or invalid access token",
    403: "the token lacks upstream:read",
    404: "unknown connection",
    409: "Exchange authorization expired",
    502: "UPSTREAM_UNAUTHORIZED",
    503: "UPSTREAM_UNAVAILABLE, Retry-After",
}


def authorization_body(token: Token) -> dict[str, Any]:
    return {
        "authorization": token.header,
        "token_type": token.token_type,
        "expires_at": rfc3339(token.expires_at),
    }


class AuthorizationEndpoint:
    def __init__(self, upstream: UpstreamService, credentials: Credentials) -> None:
        self.upstream = upstream
        self.credentials = credentials

    def __repr__(self) -> str:
        return "AuthorizationEndpoint()"

    def endpoints(self) -> list[Endpoint]:
        read = Operation(
            self.read,
            "The Authorization header to call the upstream with (cached, refreshed ahead)",
            "broker",
            AuthorizationSchema,
            errors=ERRORS,
            security="bearerAuth",
        )
        return [Endpoint("/upstream/connections/<name>/authorization", {"GET": read})]

    def read(self, request: Request) -> Response:
        """Cached, refreshed ahead, one upstream call per refresh (``identity.broker``)."""
        self.credentials.access(request.headers, [UPSTREAM_READ])
        token = self.upstream.authorization(request.params["name"])
        return json_response(200, authorization_body(token), NO_STORE)
