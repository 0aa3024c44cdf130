"""Inbox secure-mode tokens (docs/inbox.md): ``POST /inbox/token`` and ``POST /v1/inbox/tokens``.

Both take an optional ``"app"`` (the default inbox app when absent); the identifier and app
rules, the vendor formats and the keys live in ``InboxService``.
"""

from __future__ import annotations

from collections.abc import Collection

from identity.core.auth import Credentials
from identity.core.browser import customer_headers, customer_token
from identity.core.http import Headers, Request, Response, json_response
from identity.core.routes import Endpoint, Operation
from identity.core.schemas import IdentifierSchema, InboxAppChoiceSchema, InboxTokenSchema
from identity.services.inbox import InboxService

INBOX_ISSUE = "inbox:issue"  # the API-key scope of /v1/inbox/tokens


ERRORS = {
    400: "invalid request",
    401: "missing or invalid credentials",
    404: "unknown app",
    503: "no inbox app configured",
}


class InboxEndpoints:
    def __init__(
        self,
        inbox: InboxService,
        credentials: Credentials,
        allowed_origins: Collection[str],
        cors_origins: Collection[str],
    ) -> None:
        self.inbox = inbox
        self.credentials = credentials
        self.allowed_origins = allowed_origins
        self.cors_origins = cors_origins

    def __repr__(self) -> str:
        return "InboxEndpoints()"

    def response_headers(self, headers: Headers, method: str) -> list[tuple[str, str]]:
        """On every answer, errors included: no caching, CORS for the frontend origins."""
        return customer_headers(headers, method, self.cors_origins)

    def endpoints(self) -> list[Endpoint]:
        customer = Operation(
            self.customer_token,
            "The inbox token of the logged-in customer (customer token as Bearer or cookie)",
            "inbox",
            InboxTokenSchema,
            body=InboxAppChoiceSchema,
            body_required=False,
            errors={**ERRORS, 403: "cookie from a foreign origin"},
            security="bearerAuth",
        )
        partner = Operation(
            self.partner_token,
            "An inbox token for your own user identifier (API key with scope inbox:issue)",
            "inbox",
            InboxTokenSchema,
            body=IdentifierSchema,
            errors={**ERRORS, 403: "the API key lacks inbox:issue"},
            security="apiKeyAuth",
        )
        return [
            Endpoint("/inbox/token", {"POST": customer}, headers=self.response_headers),
            Endpoint("/v1/inbox/tokens", {"POST": partner}, headers=self.response_headers),
        ]

    def customer_token(self, request: Request) -> Response:
        """The logged-in customer's inbox token (customer token as Bearer or cookie)."""
        token, _ = customer_token(
            request.headers, request.cookie("customer_session"), self.allowed_origins
        )
        issued = self.inbox.for_customer(token, request.args().get("app"))
        return json_response(200, issued.body())

    def partner_token(self, request: Request) -> Response:
        """An inbox token for the partner's own user identifier (API key, inbox:issue)."""
        self.credentials.api_key(request.headers, [INBOX_ISSUE])
        args = request.args()
        issued = self.inbox.for_identifier(args["identifier"], args.get("app"))
        return json_response(200, issued.body())
