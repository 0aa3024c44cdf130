"""Upstream broker (contract §5): ready ``Authorization`` headers for internal callers.

``GET /upstream/connections/<name>/authorization`` and ``POST .../invalidate`` need an access
token with ``upstream:read``; ``/admin/upstream/connections`` needs ``admin``. Credentials are
write-only: no answer ever carries one. Tokens are answered with ``Cache-Control: no-store``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate

from identity.broker.model import METHODS, Token
from identity.extensions import get_service, get_settings, get_shared, put
from identity.http.schemas import ErrorSchema
from identity.http.security import require
from identity.services.upstream import NewConnection, UpstreamService, build_broker, rfc3339

blp = Blueprint("broker", __name__, description="Upstream broker: tokens for calling Infobip")
UPSTREAM_READ = "upstream:read"  # the access-token scope of the caller endpoints


def init_app(app: Flask) -> None:
    """One broker (its caches, locks and httpx client) and one service per app."""
    settings = get_settings(app)
    broker = build_broker(settings, get_shared(app))
    put(app, "broker", broker)
    put(app, "upstream", UpstreamService(settings, broker))


def _service() -> UpstreamService:
    return get_service("upstream")  # type: ignore[no-any-return]


def authorization_body(token: Token) -> dict[str, Any]:
    """The answer of a read (here and in ``identity.http.hotpath``)."""
    return {
        "authorization": token.header,
        "token_type": token.token_type,
        "expires_at": rfc3339(token.expires_at),
    }


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


# --- schemas ---------------------------------------------------------------------------------
class AuthorizationSchema(Schema):
    authorization = fields.String(required=True, metadata={"example": "IBSSO 2f9b4d31..."})
    token_type = fields.String(
        required=True, validate=validate.OneOf(["IBSSO", "Bearer", "App", "Basic"])
    )
    expires_at = fields.String(
        required=True, allow_none=True, metadata={"description": "RFC 3339; null: never expires"}
    )


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
    lifetime = fields.Integer(validate=validate.Range(1, 86400 * 30), allow_none=True)
    connect_timeout = fields.Float(validate=validate.Range(0.01, 120), allow_none=True)
    read_timeout = fields.Float(validate=validate.Range(0.01, 120), allow_none=True)
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
@blp.route("/upstream/connections/<name>/authorization")
class Authorization(MethodView):
    @blp.response(200, AuthorizationSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="missing or invalid access token")
    @blp.alt_response(403, schema=ErrorSchema, description="the token lacks upstream:read")
    @blp.alt_response(404, schema=ErrorSchema, description="unknown connection")
    @blp.alt_response(409, schema=ErrorSchema, description="Exchange authorization expired")
    @blp.alt_response(502, schema=ErrorSchema, description="UPSTREAM_UNAUTHORIZED")
    @blp.alt_response(503, schema=ErrorSchema, description="UPSTREAM_UNAVAILABLE, Retry-After")
    @blp.doc(security=[{"bearerAuth": []}])
    @require(access=[UPSTREAM_READ])
    def get(self, name: str) -> Response:
        """The ``Authorization`` header to call the upstream with (cached, refreshed ahead)."""
        return _no_store(jsonify(authorization_body(_service().authorization(name))))


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
