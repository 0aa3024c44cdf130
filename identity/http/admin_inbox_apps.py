"""Admin API for inbox apps (docs/inbox.md): admin scope; keys go in, never come out."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate

from identity.crypto.inbox_formats import VENDORS
from identity.extensions import services
from identity.http.schemas import ErrorSchema
from identity.http.security import require
from identity.services.inbox_apps import InboxApps, NewInboxApp

blp = Blueprint("admin_inbox_apps", __name__, description="Admin: inbox apps (docs/inbox.md)")
ADMIN = ["admin"]
KEY_DOC = {"description": "PEM, PEM with escaped \\n, base64 of the PEM, or the shared secret"}


def _apps() -> InboxApps:
    return services().inbox_apps


class InboxAppCreateSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    name = fields.String(required=True, validate=validate.Length(1, 100))
    vendor = fields.String(required=True, validate=validate.OneOf(list(VENDORS)))
    api_key = fields.String(validate=validate.Length(1, 255), allow_none=True)
    key = fields.String(load_only=True, allow_none=True, metadata=KEY_DOC)
    own_key = fields.Boolean(load_default=False)
    lifetime = fields.Integer(allow_none=True)
    default = fields.Boolean(load_default=False)


class InboxKeySchema(Schema):
    key = fields.String(required=True, load_only=True, metadata=KEY_DOC)


class InboxAppSchema(Schema):
    name = fields.String(required=True)
    vendor = fields.String(required=True)
    algorithm = fields.String()
    api_key = fields.String(allow_none=True)
    own_key = fields.Boolean()
    key = fields.String(allow_none=True, metadata={"description": "what kind of key; never it"})
    lifetime = fields.Integer(allow_none=True)
    default = fields.Boolean()
    implicit = fields.Boolean(metadata={"description": "the IDENTITY_INBOX_API_KEY app"})
    created_at = fields.String(allow_none=True)
    key_replaced_at = fields.String(allow_none=True)


class InboxAppListSchema(Schema):
    apps = fields.List(fields.Nested(InboxAppSchema), required=True)


@blp.route("/admin/inbox-apps")
class InboxAppsView(MethodView):
    @blp.response(200, InboxAppListSchema)
    @blp.doc(security=[{"bearerAuth": []}])
    @require(access=ADMIN)
    def get(self) -> dict[str, Any]:
        """Every inbox app, the implicit IDENTITY_INBOX_API_KEY one included (never a key)."""
        apps = _apps().list()
        legacy = _apps().legacy()
        apps += [legacy] if legacy and all(a.name != legacy.name for a in apps) else []
        return {"apps": [a.public() for a in apps]}

    @blp.response(201, InboxAppSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="invalid app or key")
    @blp.alt_response(409, schema=ErrorSchema, description="name already used")
    @blp.doc(security=[{"bearerAuth": []}])
    @require(access=ADMIN)
    @blp.arguments(InboxAppCreateSchema())
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Add an app; its key is validated, sealed at rest and never returned."""
        return _apps().add(NewInboxApp(**data)).public()


@blp.route("/admin/inbox-apps/<name>")
class InboxAppView(MethodView):
    @blp.response(200, InboxAppSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="unknown app")
    @blp.doc(security=[{"bearerAuth": []}])
    @require(access=ADMIN)
    def get(self, name: str) -> dict[str, Any]:
        """One app (never its key)."""
        return _apps().get(name).public()

    @blp.response(204)
    @blp.alt_response(404, schema=ErrorSchema, description="unknown app")
    @blp.doc(security=[{"bearerAuth": []}])
    @require(access=ADMIN)
    def delete(self, name: str) -> None:
        """Remove an app and its key."""
        _apps().remove(name)


@blp.route("/admin/inbox-apps/<name>/key")
class InboxAppKeyView(MethodView):
    @blp.response(200, InboxAppSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="invalid key")
    @blp.alt_response(404, schema=ErrorSchema, description="unknown app")
    @blp.doc(security=[{"bearerAuth": []}])
    @require(access=ADMIN)
    @blp.arguments(InboxKeySchema())
    def put(self, data: dict[str, Any], name: str) -> dict[str, Any]:
        """Replace the app's key at once (the vendor keeps no old public key: no overlap)."""
        return _apps().replace_key(name, data["key"]).public()
