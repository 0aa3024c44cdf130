"""Who is calling an OAuth endpoint: client authentication (RFC 6749 §2.3).

One method per request, never two (RFC 6749 §2.3): ``client_secret_basic`` (the Authorization
header, RFC 6749 §2.3.1), ``client_secret_post`` (``client_id`` and ``client_secret`` in the
body) or ``private_key_jwt`` (``client_assertion_type`` and ``client_assertion`` in the body,
RFC 7521 §4.2, RFC 7523 §2.2). Every failure is 401 ``invalid_client``.
"""

from __future__ import annotations

from identity.oauth.assertions import ASSERTION_TYPE, ClientAssertions
from identity.oauth.errors import InvalidClient, InvalidRequest
from identity.oauth.request import OAuthRequest
from identity.services.clients import ClientRecord, ClientService

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt")


class ClientAuthentication:
    def __init__(self, clients: ClientService, assertions: ClientAssertions) -> None:
        self.clients = clients
        self.assertions = assertions

    def __repr__(self) -> str:
        return "ClientAuthentication()"

    def authenticate(self, request: OAuthRequest) -> ClientRecord:
        """The enabled client whose credentials the request carries."""
        try:
            basic = request.basic_credentials()
        except InvalidClient:
            self.clients.refused(None)  # malformed Basic credentials: a stranger
            raise
        body_id = request.params.get("client_id")
        body_secret = request.params.get("client_secret")
        assertion_type = request.params.get("client_assertion_type")
        assertion = request.params.get("client_assertion")
        methods = (
            (basic is not None) + (body_secret is not None) + bool(assertion_type or assertion)
        )
        if methods > 1:
            raise InvalidRequest("More than one client authentication method")
        if assertion_type or assertion:
            if assertion_type != ASSERTION_TYPE or not assertion:
                self.clients.refused(body_id)
                raise InvalidClient("Unsupported or incomplete client assertion")
            return self.assertions.authenticate(assertion, body_id)
        if basic is not None and body_id is not None and body_id != basic[0]:
            raise InvalidRequest("client_id does not match the Basic credentials")
        if basic is not None:
            client_id, secret = basic
        elif body_id and body_secret:
            client_id, secret = body_id, body_secret
        else:
            if body_id or body_secret:  # half of client_secret_post: a refused authentication
                self.clients.refused(body_id)
            raise InvalidClient("Client authentication required")
        record = self.clients.authenticate(client_id, secret)
        if record is None:
            raise InvalidClient("Client authentication failed", basic=basic is not None)
        return record
