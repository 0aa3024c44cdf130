"""Admin API for APIs (resource servers) and client grants: admin scope (docs/partners.md)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from identity import limits
from identity.crypto.keys import ALGORITHMS
from identity.extensions import services
from identity.http.schemas import ErrorSchema, within
from identity.http.security import require
from identity.services import apis as rules

blp = Blueprint("admin_apis", __name__, description="Admin: APIs (resource servers) and grants")
ADMIN = ["admin"]
SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}]


class ApiCreateSchema(Schema):
    name = fields.String(required=True, metadata={"description": rules.NAME_RULE})
    audience = fields.String(
        required=True, metadata={"description": "absolute URI without fragment (RFC 8707 §2)"}
    )
    scopes = fields.List(fields.String(), required=True)
    lifetime = fields.Integer(
        strict=True,
        allow_none=True,
        validate=within(limits.API_LIFETIME),
        metadata={"description": f"seconds, default {rules.DEFAULT_LIFETIME}"},
    )
    alg = fields.String(allow_none=True, validate=validate.OneOf(ALGORITHMS))


class ApiUpdateSchema(Schema):
    scopes = fields.List(fields.String())
    lifetime = fields.Integer(strict=True, validate=within(limits.API_LIFETIME))


class ApiSchema(Schema):
    name = fields.String(required=True)
    audience = fields.String(required=True)
    scopes = fields.List(fields.String(), required=True)
    lifetime = fields.Integer(required=True)
    alg = fields.String(required=True)


class ApiListSchema(Schema):
    apis = fields.List(fields.Nested(ApiSchema), required=True)


class GrantSchema(Schema):
    scope = fields.String(
        required=True,
        validate=validate.Length(0, 2000),
        metadata={"description": "space-separated scopes of the API; empty removes the grant"},
    )


class GrantResultSchema(Schema):
    client_id = fields.String(required=True)
    api = fields.String(required=True)
    scope = fields.String(required=True)


def _errors(view: Any) -> Any:
    for status, text in ((401, "no admin token"), (403, "token lacks scope admin")):
        view = blp.alt_response(status, schema=ErrorSchema, description=text)(view)
    return blp.doc(security=SECURITY)(view)


@blp.route("/admin/apis")
class ApisView(MethodView):
    @_errors
    @blp.response(200, ApiListSchema)
    @require(access=ADMIN)
    def get(self) -> dict[str, Any]:
        """Every API, the built-in ``identity`` first."""
        return {"apis": [api.public() for api in services().apis.list()]}

    @_errors
    @blp.response(201, ApiSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="invalid API")
    @blp.alt_response(409, schema=ErrorSchema, description="name or audience already used")
    @require(access=ADMIN)
    @blp.arguments(ApiCreateSchema())
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Add an API: its audience, scope names, token lifetime and algorithm."""
        return services().apis.add(**body).public()


@blp.route("/admin/apis/<name>")
class ApiView(MethodView):
    @_errors
    @blp.response(200, ApiSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="unknown API")
    @require(access=ADMIN)
    def get(self, name: str) -> dict[str, Any]:
        """One API."""
        return services().apis.get(name).public()

    @_errors
    @blp.response(200, ApiSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="invalid scopes or lifetime")
    @blp.alt_response(404, schema=ErrorSchema, description="unknown API")
    @blp.alt_response(409, schema=ErrorSchema, description="the built-in API")
    @require(access=ADMIN)
    @blp.arguments(ApiUpdateSchema())
    def patch(self, body: dict[str, Any], name: str) -> dict[str, Any]:
        """Change scope names and/or lifetime; a scope taken away is removed from every grant."""
        return services().apis.update(name, **body).public()

    @_errors
    @blp.response(204)
    @blp.alt_response(404, schema=ErrorSchema, description="unknown API")
    @blp.alt_response(409, schema=ErrorSchema, description="the built-in API")
    @require(access=ADMIN)
    def delete(self, name: str) -> None:
        """Remove an API and every grant on it."""
        services().apis.remove(name)


@blp.route("/admin/clients/<client_id>/grants/<api>")
class GrantView(MethodView):
    @_errors
    @blp.response(200, GrantResultSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="a scope the API does not define")
    @blp.alt_response(404, schema=ErrorSchema, description="unknown client or API")
    @require(access=ADMIN)
    @blp.arguments(GrantSchema())
    def put(self, body: dict[str, Any], client_id: str, api: str) -> Any:
        """Set the scopes the client holds on the API (an empty scope removes the grant)."""
        return services().clients.grant(client_id, api, body["scope"])
