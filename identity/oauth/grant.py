"""The client-credentials grant (RFC 6749 §4.4): parse, authenticate, pick the API, check the
scope, issue an RFC 9068 access token, answer (RFC 6749 §5.1)."""

from __future__ import annotations

from typing import Any

from identity.oauth.client_auth import ClientAuthentication
from identity.oauth.errors import (
    InvalidRequest,
    InvalidScope,
    UnauthorizedClient,
    UnsupportedGrantType,
)
from identity.oauth.request import OAuthRequest
from identity.oauth.reuse import TokenReuse
from identity.oauth.targets import Target, Targets
from identity.services.clients import ClientRecord, normalise_scope, scope_within
from identity.services.tokens import IssuedToken, TokenService

GRANT_TYPE = "client_credentials"


class ClientCredentialsGrant:
    def __init__(
        self,
        auth: ClientAuthentication,
        targets: Targets,
        tokens: TokenService,
        reuse: TokenReuse | None = None,
    ) -> None:
        self.auth = auth
        self.targets = targets
        self.tokens = tokens
        self.reuse = reuse

    def __repr__(self) -> str:
        return "ClientCredentialsGrant()"

    def token_response(self, request: OAuthRequest) -> dict[str, Any]:
        """The RFC 6749 §5.1 body, or an ``OAuthError`` (RFC 6749 §5.2)."""
        grant_type = request.params.get("grant_type")
        if not grant_type:
            raise InvalidRequest("Missing grant_type")
        if grant_type != GRANT_TYPE:
            raise UnsupportedGrantType()
        client = self.auth.authenticate(request)
        if not client.grants:  # a client that exists to introspect and revoke only
            raise UnauthorizedClient()
        target = self.targets.resolve(client, request.resources)
        scope = granted_scope(request.params.get("scope"), target)
        issued = self._issue(client, target, scope)
        return {
            "access_token": issued.token,
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
            "scope": scope,
        }

    def _issue(self, client: ClientRecord, target: Target, scope: str) -> IssuedToken:
        key = (client.client_id, client.secret_hash, target.audience, scope)
        issued = self.reuse.get(key) if self.reuse is not None else None
        if issued is None:
            issued = self.tokens.issue_access_token(
                client.client_id, scope, target.lifetime, target.audience, target.alg
            )
            if self.reuse is not None:
                self.reuse.put(key, issued)
        return issued


def granted_scope(requested: str | None, target: Target) -> str:
    """RFC 6749 §3.3: the requested scope tokens, all held on the API; none asked: all held."""
    if requested is None or not normalise_scope(requested):
        return " ".join(target.granted)
    if not scope_within(requested, target.granted):
        raise InvalidScope()
    return normalise_scope(requested)
