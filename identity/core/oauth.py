"""The OAuth endpoints: ``/access_token`` (alias ``/oauth/token``, RFC 6749 §4.4), ``/introspect``
(RFC 7662) and ``/revoke`` (RFC 7009). Errors are ``OAuthError``s, rendered in the RFC 6749
§5.2 shape; every answer is ``no-store`` (RFC 6749 §5.1, RFC 7662 §2.2)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from identity.core.http import NO_STORE, Request, Response, json_response
from identity.core.routes import FORM_OR_JSON, Endpoint, Operation
from identity.core.schemas import (
    IntrospectionSchema,
    RevocationSchema,
    TokenParamSchema,
    TokenRequestSchema,
    TokenResponseSchema,
)
from identity.oauth.grant import ClientCredentialsGrant
from identity.oauth.request import OAuthRequest
from identity.oauth.token_management import TokenManagement

OAUTH_ERRORS = {400: "RFC 6749 §5.2 error", 401: "invalid_client"}


def _answer(operation: Callable[[OAuthRequest], dict[str, Any]]) -> Callable[[Request], Response]:
    def handle(request: Request) -> Response:
        parsed = OAuthRequest.parse(
            request.mimetype, request.body, request.headers.get("Authorization")
        )
        return json_response(200, operation(parsed), NO_STORE)

    return handle


def endpoints(grant: ClientCredentialsGrant, management: TokenManagement) -> list[Endpoint]:
    token = Operation(
        _answer(grant.token_response),
        "Client credentials grant (RFC 6749 §4.4): an RFC 9068 JWT access token",
        "oauth",
        response=TokenResponseSchema,
        body=TokenRequestSchema,
        body_types=FORM_OR_JSON,
        errors=OAUTH_ERRORS,
    )
    introspect = Operation(
        _answer(management.introspect),
        "RFC 7662 token introspection",
        "oauth",
        response=IntrospectionSchema,
        body=TokenParamSchema,
        body_types=FORM_OR_JSON,
        errors=OAUTH_ERRORS,
    )
    revoke = Operation(
        _answer(management.revoke),
        "RFC 7009 revocation: 200 even for unknown tokens",
        "oauth",
        response=RevocationSchema,
        body=TokenParamSchema,
        body_types=FORM_OR_JSON,
        errors=OAUTH_ERRORS,
    )
    return [
        Endpoint("/access_token", {"POST": token}, oauth=True),
        Endpoint("/oauth/token", {"POST": token}, oauth=True),
        Endpoint("/introspect", {"POST": introspect}, oauth=True),
        Endpoint("/revoke", {"POST": revoke}, oauth=True),
    ]
