"""Upstream broker (docs/broker.md): invalidation and the admin API of connections.

The read, ``GET /upstream/connections/<name>/authorization``, is a core
(``identity.core.broker``). ``POST .../invalidate`` needs an access token with
``upstream:read``; ``/admin/upstream/connections`` needs ``admin``. Credentials are
write-only: no answer ever carries one.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate

from identity import limits
from identity.broker.model import METHODS
from identity.core.broker import UPSTREAM_READ
from identity.extensions import services
from identity.http.schemas import ErrorSchema, within
from identity.http.security import require
from identity.services.upstream import NewConnection, UpstreamService

blp = Blueprint("broker", __name__, description="Upstream broker: tokens for calling Infobip")


def _service() -> UpstreamService:
    return services().upstream


# --- schemas ---------------------------------------------------------------------------------
class InvalidateSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    authorization = fields.String(
        validate=validate.Length(1, 8192),
        metadata={
            "description": "Optional: the header that failed; only that token is dropped, so "
            "many callers reporting one failure cause one refresh"
        },
    )


class ConnectionCreateSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    name = fields.String(required=True, validate=validate.Length(1, 100))
    base_url = fields.String(required=True, validate=validate.Length(1, 500))
    method = fields.String(required=True, validate=validate.OneOf(METHODS))
    username = fields.String(validate=validate.Length(1, 255), allow_none=True)
    client_id = fields.String(validate=validate.Length(1, 255), allow_none=True)
    secret = fields.String(load_only=True, validate=validate.Length(1, 4096), allow_none=True)
    lifetime = fields.Integer(validate=within(limits.UPSTREAM_LIFETIME), allow_none=True)
    connect_timeout = fields.Float(validate=within(limits.UPSTREAM_TIMEOUT), allow_none=True)
    read_timeout = fields.Float(validate=within(limits.UPSTREAM_TIMEOUT), allow_none=True)
    account_key = fields.String(validate=validate.Length(1, 64), allow_none=True)


class ConnectionSchema(Schema):
    name = fields.String(required=True)
    base_url = fields.String(required=True)
    method = fields.String(required=True)
    username = fields.String(allow_none=True)
    client_id = fields.String(allow_none=True)
    has_secret = fields.Method("_has_secret", dump_only=True)
    lifetime = fields.Integer(allow_none=True)
    connect_timeout = fields.Float(allow_none=True)
    read_timeout = fields.Float(allow_none=True)
    account_key = fields.String(allow_none=True)
    created_at = fields.DateTime()

    def _has_secret(self, row: Any) -> bool:
        return bool(row.secret_sealed)


class ConnectionListSchema(Schema):
    connections = fields.List(fields.Nested(ConnectionSchema), required=True)


# --- callers ----------------------------------------------------------------------------------
@blp.route("/upstream/connections/<name>/invalidate")
class Invalidate(MethodView):
    @blp.response(204)
    @blp.alt_response(404, schema=ErrorSchema, description="unknown connection")
    @blp.doc(security=[{"bearerAuth": []}])
    @require(access=[UPSTREAM_READ])
    @blp.arguments(InvalidateSchema(), required=False)
    def post(self, data: dict[str, Any], name: str) -> None:
        """The caller saw a 401 upstream: the next read fetches a fresh token."""
        _service().invalidate(name, data.get("authorization"))


# --- admin ------------------------------------------------------------------------------------
@blp.route("/admin/upstream/connections")
class Connections(MethodView):
    @blp.response(200, ConnectionListSchema)
    @blp.doc(security=[{"bearerAuth": []}])
    @require(access=["admin"])
    def get(self) -> dict[str, Any]:
        """Every upstream connection (credentials are never returned)."""
        return {"connections": _service().list()}

    @blp.response(201, ConnectionSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="invalid connection")
    @blp.alt_response(409, schema=ErrorSchema, description="name already used")
    @blp.doc(security=[{"bearerAuth": []}])
    @require(access=["admin"])
    @blp.arguments(ConnectionCreateSchema())
    def post(self, data: dict[str, Any]) -> Any:
        """Create a connection; its secret is sealed at rest and never shown again."""
        return _service().add(NewConnection(**data))


@blp.route("/admin/upstream/connections/<name>")
class Connection(MethodView):
    @blp.response(200, ConnectionSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="unknown connection")
    @blp.doc(security=[{"bearerAuth": []}])
    @require(access=["admin"])
    def get(self, name: str) -> Any:
        """One connection (without its credentials)."""
        return _service().get(name)

    @blp.response(204)
    @blp.alt_response(404, schema=ErrorSchema, description="unknown connection")
    @blp.doc(security=[{"bearerAuth": []}])
    @require(access=["admin"])
    def delete(self, name: str) -> None:
        """Remove a connection and its cached token."""
        _service().remove(name)
