"""Inbox secure-mode tokens (docs/inbox.md): ``POST /inbox/token`` and ``POST /v1/inbox/tokens``.

Both take an optional ``"app"`` (the default inbox app when absent); the identifier and app
rules, the vendor formats and the keys live in ``InboxService``.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from identity.core.auth import Credentials
from identity.core.bodies import JSON, json_object
from identity.core.browser import customer_headers, customer_token
from identity.core.http import Headers, Request, Response, by_method, json_response
from identity.errors import BadRequest
from identity.services.inbox import InboxService

INBOX_ISSUE = "inbox:issue"  # the API-key scope of /v1/inbox/tokens


def _fields(
    request: Request, required: tuple[str, ...], optional: tuple[str, ...]
) -> dict[str, Any]:
    """The JSON object's string members; an empty body is an empty object."""
    if not request.body and not required:
        return {}
    if request.mimetype != JSON:
        raise BadRequest("Send a JSON body (Content-Type: application/json)")
    document = json_object(request.body)
    errors: dict[str, list[str]] = {}
    for name in document.keys() - {*required, *optional}:
        errors[name] = ["Unknown field."]
    for name in required:
        if name not in document:
            errors[name] = ["Missing data for required field."]
    for name, value in document.items():
        if name not in errors and not isinstance(value, str):
            errors[name] = ["Not a valid string."]
    if errors:
        raise BadRequest("Invalid request", errors)
    return document


class InboxEndpoints:
    oauth = False

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

    def customer(self, request: Request) -> Response:
        return by_method(request, {"POST": self._customer_token})

    def partner(self, request: Request) -> Response:
        return by_method(request, {"POST": self._partner_token})

    def _customer_token(self, request: Request) -> Response:
        """The logged-in customer's inbox token (customer token as Bearer or cookie)."""
        token, _ = customer_token(
            request.headers, request.cookie("customer_session"), self.allowed_origins
        )
        args = _fields(request, (), ("app",))
        return json_response(200, self.inbox.for_customer(token, args.get("app")).body())

    def _partner_token(self, request: Request) -> Response:
        """An inbox token for the partner's own user identifier (API key, inbox:issue)."""
        self.credentials.api_key(request.headers, [INBOX_ISSUE])  # before reading the body
        args = _fields(request, ("identifier",), ("app",))
        issued = self.inbox.for_identifier(args["identifier"], args.get("app"))
        return json_response(200, issued.body())
