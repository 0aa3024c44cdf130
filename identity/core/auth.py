"""Credentials on protected endpoints: access tokens and API keys (no Flask).

Access tokens are verified with RFC 8725 discipline (see ``crypto.verify``) and checked against
the revocation list. 401 carries ``WWW-Authenticate`` (RFC 6750 §3); a missing scope is 403
(RFC 6750 §3.1 ``insufficient_scope``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from identity.core.http import Headers
from identity.errors import Forbidden, Unauthorized
from identity.services.api_keys import ApiKeyPrincipal, ApiKeyService
from identity.services.tokens import TokenService

ACCESS_SCHEMES = ("bearer", "oauth")  # docs/partners.md: "OAuth" is a synonym some platforms send


class AuthenticationRequired(Unauthorized):
    def __init__(self, text: str, scheme: str = "Bearer", error: str | None = None) -> None:
        super().__init__(text)
        self._challenge = f'{scheme} realm="identity"' + (f', error="{error}"' if error else "")

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": self._challenge}


def split_authorization(header: str) -> tuple[str, str]:
    """``(scheme in lower case, credentials)`` of an ``Authorization`` header value."""
    scheme, _, value = header.partition(" ")
    return scheme.lower(), value.strip()


def bearer_from(headers: Headers) -> str | None:
    """The access token from ``Authorization: Bearer|OAuth <token>``, if any."""
    scheme, value = split_authorization(headers.get("Authorization") or "")
    return value if scheme in ACCESS_SCHEMES and value else None


def api_key_from(headers: Headers) -> str | None:
    """``Authorization: App <key>`` first, else the ``X-API-Key`` header."""
    scheme, value = split_authorization(headers.get("Authorization") or "")
    if scheme == "app" and value:
        return value
    return headers.get("X-API-Key") or None


class Credentials:
    """Checks the credentials a request presents against the scopes an endpoint needs."""

    def __init__(self, tokens: TokenService, api_keys: ApiKeyService) -> None:
        self.tokens = tokens
        self.api_keys = api_keys
        self.own_audience = tokens.settings.access_audience

    def __repr__(self) -> str:
        return "Credentials(***)"

    def access(self, headers: Headers, scopes: Iterable[str]) -> dict[str, Any]:
        """Claims of a valid access token carrying ``scopes``; 401/403 otherwise."""
        token = bearer_from(headers)
        if token is None:
            raise AuthenticationRequired("Access token required")
        try:
            # Our own endpoints take tokens for the built-in API only (RFC 9068 §4 step 3):
            # a token another API's clients hold must not open them.
            claims = self.tokens.verify_access_token(token, audience=self.own_audience)
        except Unauthorized:
            raise AuthenticationRequired(
                "Invalid or expired token", error="invalid_token"
            ) from None
        if not set(scopes) <= set(str(claims.get("scope", "")).split()):
            raise Forbidden("The access token lacks a required scope")
        return claims

    def api_key(self, headers: Headers, scopes: Iterable[str]) -> ApiKeyPrincipal:
        """The principal of a valid API key carrying ``scopes``; 401/403 otherwise."""
        key = api_key_from(headers)
        if key is None:
            raise AuthenticationRequired("API key required", scheme="App")
        try:
            principal = self.api_keys.authenticate(key)
        except Unauthorized as exc:
            raise AuthenticationRequired(exc.text, scheme="App") from None
        if not set(scopes) <= principal.scopes:
            raise Forbidden("The API key lacks a required scope")
        return principal
