"""Inbox secure-mode tokens (contract §3): thin views over ``InboxService`` (which owns every
rule: identifier, app name, vendor format, key)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from identity.extensions import get_keys, get_service, get_settings, put
from identity.http.customers import customer_headers, presented_customer_token
from identity.http.schemas import ErrorSchema
from identity.http.security import require
from identity.services.inbox import IDENTIFIER_MAX, InboxService, InboxToken
from identity.services.inbox_apps import InboxApps

blp = Blueprint("inbox", __name__, description="Inbox secure-mode tokens (contract §3)")
INBOX_ISSUE = "inbox:issue"  # the API-key scope of /v1/inbox/tokens
blp.after_request(customer_headers)
__all__ = ["IDENTIFIER_MAX", "INBOX_ISSUE", "blp", "inbox_body"]

APP_DOC = {"type": "string", "description": "inbox app name; the default app when absent"}


class AppSchema(Schema):
    app = fields.Raw(load_default=None, metadata=APP_DOC)  # checked by InboxService


class IdentifierSchema(AppSchema):
    identifier = fields.Raw(
        load_default=None,
        metadata={"type": "string", "description": f"1-{IDENTIFIER_MAX} printable characters"},
    )


class InboxTokenSchema(Schema):
    token = fields.String(required=True)
    expires_in = fields.Integer(
        required=True, allow_none=True, metadata={"description": "null: never"}
    )
    app = fields.String(required=True)
    vendor = fields.String(required=True)


def _inbox() -> InboxService:
    return get_service("inbox")  # type: ignore[no-any-return]


def inbox_body(issued: InboxToken) -> dict[str, Any]:
    return issued.body()


@blp.route("/inbox/token")
class CustomerInboxToken(MethodView):
    @blp.arguments(AppSchema(), required=False)
    @blp.response(200, InboxTokenSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="invalid customer token")
    @blp.alt_response(403, schema=ErrorSchema, description="cookie from a foreign origin")
    @blp.alt_response(404, schema=ErrorSchema, description="unknown inbox app")
    @blp.alt_response(503, schema=ErrorSchema, description="no inbox app configured")
    def post(self, args: dict[str, Any]) -> dict[str, Any]:
        """The inbox token of the logged-in customer (customer token as Bearer or cookie)."""
        token, _ = presented_customer_token()
        return _inbox().for_customer(token, args.get("app")).body()


@blp.route("/v1/inbox/tokens")
class PartnerInboxToken(MethodView):
    @require(api_key=[INBOX_ISSUE])  # authenticate before reading the body
    @blp.arguments(IdentifierSchema())  # an instance: webargs would build a class per request
    @blp.response(200, InboxTokenSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="missing or invalid API key")
    @blp.alt_response(403, schema=ErrorSchema, description="the API key lacks inbox:issue")
    @blp.alt_response(404, schema=ErrorSchema, description="unknown inbox app")
    @blp.alt_response(503, schema=ErrorSchema, description="no inbox app configured")
    def post(self, args: dict[str, Any]) -> dict[str, Any]:
        """An inbox token for your own user identifier (API key with scope inbox:issue)."""
        return _inbox().for_identifier(args["identifier"], args["app"]).body()


def init_app(app: Flask) -> None:
    settings = get_settings(app)
    apps = InboxApps(settings)
    put(app, "inbox_apps", apps)
    sessions = get_service("customer_sessions", app)
    put(app, "inbox", InboxService(sessions, get_keys(app), apps, settings))
