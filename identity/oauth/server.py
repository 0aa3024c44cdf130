"""The authorization server: client authentication, the client-credentials grant (RFC 6749 §4.4),
and the token generator that calls our one signer through ``TokenService``."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import (
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    OAuth2Request,
    UnsupportedGrantTypeError,
)
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant

from identity.errors import InvalidToken
from identity.oauth.endpoints import Introspection, Revocation
from identity.oauth.errors import InvalidClient, UnsupportedGrantType
from identity.oauth.models import AUTH_METHODS, AccessToken, Client
from identity.oauth.requests import OAuthCall, as_call
from identity.oauth.reuse import TokenReuse
from identity.services.clients import ClientService, normalise_scope, scope_within
from identity.services.tokens import IssuedToken, TokenService

Result = tuple[int, Any, list[tuple[str, str]]]


class ClientCredentials(ClientCredentialsGrant):
    """RFC 6749 §4.4 with RFC 6749 §3.3 scope rules: a subset of the client's scopes."""

    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)

    def validate_requested_scope(self) -> None:
        request = as_call(self.request)
        requested = request.payload.scope
        if requested is None:
            return  # the client's default scopes (all of them)
        client = request.client
        if not isinstance(client, Client) or not scope_within(requested, client.record.scopes):
            raise InvalidScopeError("The requested scope exceeds the client's scopes")


class Server(AuthorizationServer):
    """Authlib's server with our client lookup, signer and error path (errors are raised)."""

    def __init__(self, clients: ClientService, tokens: TokenService, reuse: bool = False) -> None:
        super().__init__()
        self.clients = clients
        self.tokens = tokens
        self.reuse = TokenReuse(tokens) if reuse else None
        self.register_grant(ClientCredentials)
        # Authlib calls any callable here; the stub asks for a BearerTokenGenerator.
        self.register_token_generator("default", self.generate_access_token)  # type: ignore[arg-type]
        self.register_endpoint(Introspection)
        self.register_endpoint(Revocation)

    def __repr__(self) -> str:
        return "Server(***)"

    # --- Authlib hooks -----------------------------------------------------------------------
    def query_client(self, client_id: str) -> Client | None:  # type: ignore[override]
        # Authlib's callers handle None (unknown client); the stub leaves it out.
        record = self.clients.get(client_id)
        return Client(record) if record is not None else None

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Nothing to store: the token is a self-contained JWT (no database write per token)."""

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No signal subscribers."""

    def create_oauth2_request(self, request: OAuthCall) -> OAuthCall:
        return request

    def handle_response(  # type: ignore[override]  # Authlib passes a list of pairs
        self, status: int, body: Any, headers: list[tuple[str, str]]
    ) -> Result:
        return status, body, headers

    def handle_error_response(self, request: Any, error: OAuth2Error) -> Result:
        raise error  # rendered once, by identity.http.errors (RFC 6749 §5.2 shape)

    def get_token_grant(self, request: OAuth2Request) -> Any:
        if not as_call(request).payload.grant_type:
            raise InvalidRequestError("Missing grant_type")
        try:
            return super().get_token_grant(request)
        except UnsupportedGrantTypeError:
            raise UnsupportedGrantType() from None

    def authenticate_client(
        self, request: OAuth2Request, methods: Collection[str], endpoint: str = "token"
    ) -> Client:
        """``client_secret_basic`` or ``client_secret_post``, never both (RFC 6749 §2.3)."""
        request = as_call(request)
        basic = request.basic_credentials()
        body_id, body_secret = request.form.get("client_id"), request.form.get("client_secret")
        if basic is not None and body_secret is not None:
            raise InvalidRequestError("More than one client authentication method")
        if basic is not None and body_id is not None and body_id != basic[0]:
            raise InvalidRequestError("client_id does not match the Basic credentials")
        if basic is not None:
            client_id, secret, method = basic[0], basic[1], "client_secret_basic"
        elif body_id and body_secret:
            client_id, secret, method = body_id, body_secret, "client_secret_post"
        else:
            raise InvalidClient("Client authentication required")
        record = self.clients.authenticate(client_id, secret)
        if record is None:
            raise InvalidClient("Client authentication failed", basic=basic is not None)
        request.auth_method = method
        return Client(record)

    # --- our parts ---------------------------------------------------------------------------
    def generate_access_token(
        self, grant_type: str, client: Client, scope: str | None = None, **_: Any
    ) -> dict[str, Any]:
        """RFC 6749 §5.1 response around an RFC 9068 JWT signed by ``TokenService``."""
        granted = normalise_scope(scope) or client.record.scope
        issued = self._issue(client, granted)
        return {
            "access_token": issued.token,
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
            "scope": granted,
        }

    def _issue(self, client: Client, scope: str) -> IssuedToken:
        key = (client.client_id, client.record.secret_hash, scope)
        issued = self.reuse.get(key) if self.reuse is not None else None
        if issued is None:
            issued = self.tokens.issue_access_token(client.client_id, scope, client.record.lifetime)
            if self.reuse is not None:
                self.reuse.put(key, issued)
        return issued

    def read_access_token(self, token: str) -> AccessToken | None:
        """The verified token, or None: introspection and revocation treat both alike."""
        try:
            return AccessToken(self.tokens.verify_access_token(token, fresh=True))
        except InvalidToken:
            return None
