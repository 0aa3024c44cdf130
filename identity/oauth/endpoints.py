"""RFC 7662 introspection and RFC 7009 revocation of our access tokens."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint

from identity.oauth.models import AUTH_METHODS, AccessToken, Client


def _require_token(request: Any) -> None:
    if "token" not in request.form:
        raise InvalidRequestError("Missing token")


class Introspection(IntrospectionEndpoint):
    """RFC 7662 §2: ``{"active": false}`` for anything not currently valid or not the caller's."""

    CLIENT_AUTH_METHODS = list(AUTH_METHODS)

    def check_params(self, request: Any, client: Client) -> None:
        """RFC 7662 §2.1: ``token_type_hint`` is only a hint; an unknown one is ignored."""
        _require_token(request)

    def query_token(self, token_string: str, token_type_hint: str | None) -> AccessToken | None:
        return self.server.read_access_token(token_string)  # type: ignore[no-any-return]

    def check_permission(self, token: AccessToken, client: Client, request: Any) -> bool:
        return client.may_manage(token)

    def introspect_token(self, token: AccessToken) -> dict[str, Any]:
        """RFC 7662 §2.2 members, from the verified claims."""
        claims = token.claims
        return {
            "active": True,
            "scope": claims.get("scope", ""),
            "client_id": claims["client_id"],
            "token_type": "Bearer",
            **{
                k: claims[k]
                for k in ("exp", "iat", "nbf", "sub", "aud", "iss", "jti")
                if k in claims
            },
        }


class Revocation(RevocationEndpoint):
    """RFC 7009 §2.2: 200 for unknown, invalid or expired tokens; the jti goes on the denylist."""

    CLIENT_AUTH_METHODS = list(AUTH_METHODS)

    def authenticate_token(self, request: Any, client: Client) -> AccessToken | None:
        _require_token(request)  # RFC 7009 §2.1: the hint MAY be ignored, and it is
        token = self.query_token(request.form["token"], request.form.get("token_type_hint"))
        # Another client's token is answered like an unknown one: no oracle, nothing revoked.
        return token if token is not None and client.may_manage(token) else None

    def query_token(self, token_string: str, token_type_hint: str | None) -> AccessToken | None:
        return self.server.read_access_token(token_string)  # type: ignore[no-any-return]

    def revoke_token(self, token: AccessToken, request: Any) -> None:
        self.server.tokens.revoke(token.claims)
