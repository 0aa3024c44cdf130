"""The OAuth endpoints: ``/access_token`` (alias ``/oauth/token``, RFC 6749 §4.4), ``/introspect``
(RFC 7662) and ``/revoke`` (RFC 7009). Errors are ``OAuthError``s, rendered in the RFC 6749
§5.2 shape; every answer is ``no-store`` (RFC 6749 §5.1, RFC 7662 §2.2)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from identity.core.http import NO_STORE, Request, Response, by_method, json_response
from identity.oauth.grant import ClientCredentialsGrant
from identity.oauth.request import OAuthRequest
from identity.oauth.token_management import TokenManagement

Operation = Callable[[OAuthRequest], dict[str, Any]]


def _post(request: Request, operation: Operation) -> Response:
    def answer(request: Request) -> Response:
        parsed = OAuthRequest.parse(
            request.mimetype, request.body, request.headers.get("Authorization")
        )
        return json_response(200, operation(parsed), NO_STORE)

    return by_method(request, {"POST": answer})


class OAuthEndpoints:
    def __init__(self, grant: ClientCredentialsGrant, management: TokenManagement) -> None:
        self.grant = grant
        self.management = management

    def __repr__(self) -> str:
        return "OAuthEndpoints()"

    def token(self, request: Request) -> Response:
        return _post(request, self.grant.token_response)

    def introspect(self, request: Request) -> Response:
        return _post(request, self.management.introspect)

    def revoke(self, request: Request) -> Response:
        return _post(request, self.management.revoke)
