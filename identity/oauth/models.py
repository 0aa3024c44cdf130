"""Authlib's client and token interfaces over our own records."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin

from identity.services.clients import ClientRecord

AUTH_METHODS = ("client_secret_basic", "client_secret_post")
ADMIN_SCOPE = "admin"


class Client(ClientMixin):
    """A confidential client; its secret was already checked by ``ClientService.authenticate``."""

    def __init__(self, record: ClientRecord) -> None:
        self.record = record

    def __repr__(self) -> str:
        return f"Client({self.record.client_id!r})"

    @property
    def client_id(self) -> str:
        return self.record.client_id

    def get_client_id(self) -> str:
        return self.record.client_id

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in AUTH_METHODS

    def check_grant_type(self, grant_type: str) -> bool:
        """A client without scopes exists to introspect/revoke only: no client_credentials."""
        return grant_type == "client_credentials" and bool(self.record.scopes)

    def get_allowed_scope(self, scope: Collection[str] | str) -> str:
        requested = scope.split() if isinstance(scope, str) else scope
        return " ".join(s for s in requested if s in self.record.scopes)

    def may_manage(self, token: AccessToken) -> bool:
        """RFC 7662 §4 / RFC 7009 §2.1: a client sees its own tokens; an admin client any."""
        return token.client_id == self.client_id or ADMIN_SCOPE in self.record.scopes


class AccessToken(TokenMixin):
    """A verified (signature, expiry, revocation) RFC 9068 access token."""

    def __init__(self, claims: dict[str, Any]) -> None:
        self.claims = claims

    def __repr__(self) -> str:
        return f"AccessToken(jti={self.claims.get('jti')!r})"

    @property
    def client_id(self) -> str:
        return str(self.claims["client_id"])

    def check_client(self, client: Client) -> bool:
        return client.may_manage(self)

    def get_scope(self) -> str:
        return str(self.claims.get("scope", ""))

    def get_expires_in(self) -> int:
        return int(self.claims["exp"]) - int(self.claims["iat"])

    def is_expired(self) -> bool:
        return False  # verified just now

    def is_revoked(self) -> bool:
        return False  # verified against the denylist just now
