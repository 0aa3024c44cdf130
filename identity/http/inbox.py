"""Inbox secure-mode tokens (contract §3): for a logged-in customer, or for an API-key caller."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields
from marshmallow.validate import Length

from identity.extensions import get_service, put
from identity.http.customers import customer_headers, presented_customer_token
from identity.http.schemas import ErrorSchema
from identity.http.security import require
from identity.services.inbox import InboxService
from identity.services.tokens import IssuedToken

blp = Blueprint("inbox", __name__, description="Inbox secure-mode tokens (contract §3)")
INBOX_ISSUE = "inbox:issue"  # the API-key scope of /v1/inbox/tokens
IDENTIFIER_MAX = 256
blp.after_request(customer_headers)


def _printable(value: str) -> None:
    if not value.isprintable():
        raise ValidationError("Must contain printable characters only.")


class IdentifierSchema(Schema):
    identifier = fields.String(required=True, validate=[Length(1, IDENTIFIER_MAX), _printable])


class InboxTokenSchema(Schema):
    token = fields.String(required=True)
    expires_in = fields.Integer(required=True)


def _inbox() -> InboxService:
    return get_service("inbox")  # type: ignore[no-any-return]


def inbox_body(issued: IssuedToken) -> dict[str, Any]:
    return {"token": issued.token, "expires_in": issued.expires_in}


@blp.route("/inbox/token")
class CustomerInboxToken(MethodView):
    @blp.response(200, InboxTokenSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="invalid customer token")
    @blp.alt_response(403, schema=ErrorSchema, description="cookie from a foreign origin")
    def post(self) -> dict[str, Any]:
        """The inbox token of the logged-in customer (customer token as Bearer or cookie)."""
        token, _ = presented_customer_token()
        return inbox_body(_inbox().for_customer(token))


@blp.route("/v1/inbox/tokens")
class PartnerInboxToken(MethodView):
    @require(api_key=[INBOX_ISSUE])  # authenticate before reading the body
    @blp.arguments(IdentifierSchema())  # an instance: webargs would build a class per request
    @blp.response(200, InboxTokenSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="missing or invalid API key")
    @blp.alt_response(403, schema=ErrorSchema, description="the API key lacks inbox:issue")
    def post(self, args: dict[str, Any]) -> dict[str, Any]:
        """An inbox token for your own user identifier (API key with scope inbox:issue)."""
        return inbox_body(_inbox().for_identifier(args["identifier"]))


def init_app(app: Flask) -> None:
    put(
        app,
        "inbox",
        InboxService(get_service("customer_sessions", app), get_service("tokens", app)),
    )
