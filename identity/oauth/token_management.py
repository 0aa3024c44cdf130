"""RFC 7662 introspection and RFC 7009 revocation of our access tokens.

A client sees and revokes its own tokens only, an ``admin`` client any (RFC 7662 §4, RFC 7009
§2.1); another client's token is answered like an unknown one: no oracle, nothing revoked.
"""

from __future__ import annotations

from typing import Any

from identity.errors import InvalidToken
from identity.oauth.client_auth import ClientAuthentication
from identity.oauth.errors import InvalidRequest
from identity.oauth.request import OAuthRequest
from identity.scopes import ADMIN
from identity.services.clients import ClientRecord
from identity.services.tokens import TokenService

INTROSPECTED_CLAIMS = ("exp", "iat", "nbf", "sub", "aud", "iss", "jti")


class TokenManagement:
    def __init__(self, auth: ClientAuthentication, tokens: TokenService) -> None:
        self.auth = auth
        self.tokens = tokens

    def __repr__(self) -> str:
        return "TokenManagement()"

    def introspect(self, request: OAuthRequest) -> dict[str, Any]:
        """RFC 7662 §2.2; ``token_type_hint`` is only a hint and is ignored (§2.1)."""
        claims = self._caller_token(request)
        if claims is None:
            return {"active": False}
        return {
            "active": True,
            "scope": claims.get("scope", ""),
            "client_id": claims["client_id"],
            "token_type": "Bearer",
            **{name: claims[name] for name in INTROSPECTED_CLAIMS if name in claims},
        }

    def revoke(self, request: OAuthRequest) -> dict[str, Any]:
        """RFC 7009 §2.2: 200 for unknown, invalid or expired tokens alike."""
        claims = self._caller_token(request)
        if claims is not None:
            self.tokens.revoke(claims)
        return {}

    def _caller_token(self, request: OAuthRequest) -> dict[str, Any] | None:
        """The verified claims of ``token`` if the authenticated caller may manage it."""
        client = self.auth.authenticate(request)
        token = request.params.get("token")
        if token is None:
            raise InvalidRequest("Missing token")
        try:
            claims = self.tokens.verify_access_token(token, fresh=True)
        except InvalidToken:
            return None
        return claims if may_manage(client, claims) else None


def may_manage(client: ClientRecord, claims: dict[str, Any]) -> bool:
    return claims.get("client_id") == client.client_id or ADMIN in client.scopes
