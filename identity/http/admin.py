"""Admin API: OAuth clients, API keys and the signing key ring (docs/partners.md).

Every endpoint needs an access token with scope ``admin``; secrets appear once, in the 201
answer that creates them (``Cache-Control: no-store``).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, jsonify
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from identity import limits
from identity.crypto.keys import ALGORITHMS, RS256
from identity.extensions import services
from identity.http.schemas import ErrorSchema, within
from identity.http.security import require
from identity.scopes import BUILTIN_API
from identity.services.clients import (
    PRIVATE_KEY_JWT,
    SECRET,
    ClientAuth,
    rotated_view,
)

blp = Blueprint("admin", __name__, description="Admin: OAuth clients, API keys, signing keys")

ADMIN = ["admin"]


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


# --- schemas -------------------------------------------------------------------------------
class ClientCreateSchema(Schema):
    name = fields.String(required=True, validate=within(limits.CLIENT_NAME))
    scope = fields.String(load_default="", validate=within(limits.SCOPE))
    api = fields.String(
        load_default=BUILTIN_API, metadata={"description": "the API the scope is on"}
    )
    lifetime = fields.Integer(validate=within(limits.CLIENT_LIFETIME), allow_none=True)
    auth = fields.String(load_default=SECRET, validate=validate.OneOf([SECRET, PRIVATE_KEY_JWT]))
    jwks = fields.Dict(metadata={"description": "public JWK Set (private_key_jwt)"})
    jwks_uri = fields.String(validate=within(limits.JWKS_URI))


class ClientSchema(Schema):
    client_id = fields.String(required=True)
    name = fields.String()
    scope = fields.String(metadata={"description": "its scopes on the built-in API"})
    grants = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "API name -> the scopes the client holds on it"},
    )
    lifetime = fields.Integer(allow_none=True)
    enabled = fields.Boolean()
    auth_method = fields.String()
    jwks = fields.Dict(allow_none=True)
    jwks_uri = fields.String(allow_none=True)
    created_at = fields.String(metadata={"format": "date-time"})
    secret_rotated_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    old_secret_expires_at = fields.String(allow_none=True, metadata={"format": "date-time"})


class ClientSecretSchema(Schema):
    client_id = fields.String(required=True)
    client_secret = fields.String(metadata={"description": "absent for private_key_jwt"})
    scope = fields.String(required=True)
    lifetime = fields.Integer(allow_none=True)


class RotateSecretSchema(Schema):
    keep_old_for = fields.Integer(
        load_default=0,
        validate=within(limits.SECRET_OVERLAP),
        metadata={"description": "seconds the old secret keeps working (at most 30 days)"},
    )


class RotatedSecretSchema(Schema):
    client_id = fields.String(required=True)
    client_secret = fields.String(required=True)
    old_secret_expires_at = fields.String(
        required=True, allow_none=True, metadata={"format": "date-time"}
    )


class ClientListSchema(Schema):
    clients = fields.List(fields.Nested(ClientSchema), required=True)


class ApiKeyCreateSchema(Schema):
    name = fields.String(required=True, validate=within(limits.API_KEY_NAME))
    scope = fields.String(load_default="", validate=within(limits.SCOPE))
    expires_in = fields.Integer(validate=within(limits.API_KEY_EXPIRES_IN), allow_none=True)


class ApiKeySchema(Schema):
    id = fields.String(required=True)
    name = fields.String()
    lookup = fields.String(metadata={"description": "non-secret prefix of the key"})
    scope = fields.String()
    created_at = fields.DateTime()
    expires_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
    last_used_at = fields.DateTime(allow_none=True)


class ApiKeyCreatedSchema(Schema):
    id = fields.String(required=True)
    key = fields.String(required=True)
    scope = fields.String(required=True)
    expires_at = fields.DateTime(allow_none=True)


class ApiKeyListSchema(Schema):
    api_keys = fields.List(fields.Nested(ApiKeySchema), required=True)


class KeyStateSchema(Schema):
    kid = fields.String(required=True)
    alg = fields.String(required=True)
    state = fields.String(required=True)
    activates_at = fields.DateTime()
    remove_after = fields.DateTime(allow_none=True)


class KeyListSchema(Schema):
    keys = fields.List(fields.Nested(KeyStateSchema), required=True)


ALG = fields.String(load_default=RS256, validate=validate.OneOf(ALGORITHMS))


class RotateSchema(Schema):
    promote_after = fields.Integer(validate=within(limits.KEY_PROMOTE_AFTER), allow_none=True)
    alg = ALG


class PromoteSchema(Schema):
    alg = ALG


class KidSchema(Schema):
    kid = fields.String(required=True)


class RemovedSchema(Schema):
    removed = fields.List(fields.String(), required=True)


def _errors(view: Any) -> Any:
    for status, text in ((401, "no admin token"), (403, "token lacks scope admin")):
        view = blp.alt_response(status, schema=ErrorSchema, description=text)(view)
    return view


# --- OAuth clients -------------------------------------------------------------------------
@blp.route("/admin/clients")
class Clients(MethodView):
    @_errors
    @blp.response(200, ClientListSchema)
    @require(access=ADMIN)
    def get(self) -> dict[str, Any]:
        """Every OAuth client (never a secret)."""
        return {"clients": [services().clients.view(row) for row in services().clients.list()]}

    @_errors
    @blp.response(201, ClientSecretSchema)
    @require(access=ADMIN)
    @blp.arguments(ClientCreateSchema())
    def post(self, body: dict[str, Any]) -> Response:
        """Create a client; its secret (``client_secret`` auth) is in this answer only."""
        jwks = body.get("jwks")
        auth = ClientAuth(
            body["auth"], json.dumps(jwks) if jwks is not None else None, body.get("jwks_uri")
        )
        created = services().clients.create(
            body["name"], body["scope"], body.get("lifetime"), body["api"], auth=auth
        )
        answer = ClientSecretSchema().dump(created)
        if created.client_secret is None:
            answer.pop("client_secret", None)
        return _created(answer)


@blp.route("/admin/clients/<client_id>")
class ClientItem(MethodView):
    @_errors
    @blp.response(200, ClientSchema)
    @require(access=ADMIN)
    def get(self, client_id: str) -> Any:
        """One client (never a secret)."""
        return services().clients.view(services().clients.row(client_id))


@blp.route("/admin/clients/<client_id>/rotate-secret")
class ClientRotate(MethodView):
    @_errors
    @blp.response(200, RotatedSecretSchema)
    @require(access=ADMIN)
    @blp.arguments(RotateSecretSchema(), required=False)
    def post(self, body: dict[str, Any], client_id: str) -> Response:
        """A new secret; the old one works until ``old_secret_expires_at`` (null: not at all)."""
        rotated = services().clients.rotate_secret(client_id, body.get("keep_old_for", 0))
        return _created(rotated_view(rotated), status=200)


@blp.route("/admin/clients/<client_id>/disable")
class ClientDisable(MethodView):
    @_errors
    @blp.response(200, ClientSchema)
    @require(access=ADMIN)
    def post(self, client_id: str) -> Any:
        """Refuse new tokens to this client."""
        return services().clients.view(services().clients.disable(client_id))


@blp.route("/admin/clients/<client_id>/enable")
class ClientEnable(MethodView):
    @_errors
    @blp.response(200, ClientSchema)
    @require(access=ADMIN)
    def post(self, client_id: str) -> Any:
        """Accept a disabled client again (same secret or keys)."""
        return services().clients.view(services().clients.enable(client_id))


# --- API keys ------------------------------------------------------------------------------
@blp.route("/admin/api-keys")
class ApiKeys(MethodView):
    @_errors
    @blp.response(200, ApiKeyListSchema)
    @require(access=ADMIN)
    def get(self) -> dict[str, Any]:
        """Every API key (never the key itself)."""
        return {"api_keys": services().api_keys.list()}

    @_errors
    @blp.response(201, ApiKeyCreatedSchema)
    @require(access=ADMIN)
    @blp.arguments(ApiKeyCreateSchema())
    def post(self, body: dict[str, Any]) -> Response:
        """Create an API key; the key is in this answer only."""
        created = services().api_keys.create(body["name"], body["scope"], body.get("expires_in"))
        return _created(ApiKeyCreatedSchema().dump(created))


@blp.route("/admin/api-keys/<key_id>/revoke")
class ApiKeyRevoke(MethodView):
    @_errors
    @blp.response(200, ApiKeySchema)
    @require(access=ADMIN)
    def post(self, key_id: str) -> Any:
        """Revoke an API key: refused from the next request on."""
        return services().api_keys.revoke(key_id)


# --- signing keys --------------------------------------------------------------------------
@blp.route("/admin/keys")
class Keys(MethodView):
    @_errors
    @blp.response(200, KeyListSchema)
    @require(access=ADMIN)
    def get(self) -> dict[str, Any]:
        """Every signing key with its state (next, active, retired)."""
        return {
            "keys": [
                {
                    "kid": s.record.kid,
                    "alg": s.record.alg,
                    "state": s.state,
                    "activates_at": s.record.activates_at,
                    "remove_after": s.remove_after,
                }
                for s in services().keys.states()
            ]
        }


@blp.route("/admin/keys/rotate")
class KeysRotate(MethodView):
    @_errors
    @blp.response(201, KidSchema)
    @require(access=ADMIN)
    @blp.arguments(RotateSchema(), required=False)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Pre-publish a new key of ``alg``; it signs after ``promote_after`` seconds."""
        delay = body.get("promote_after")
        delay = services().settings.key_promote_after if delay is None else delay
        return {"kid": services().keys.rotate(delay, body.get("alg", RS256))}


@blp.route("/admin/keys/promote")
class KeysPromote(MethodView):
    @_errors
    @blp.response(200, KidSchema)
    @require(access=ADMIN)
    @blp.arguments(PromoteSchema(), required=False)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Make the pre-published key of ``alg`` (default RS256) active now."""
        return {"kid": services().keys.promote(body.get("alg", RS256))}


@blp.route("/admin/keys/retire")
class KeysRetire(MethodView):
    @_errors
    @blp.response(200, RemovedSchema)
    @require(access=ADMIN)
    def post(self) -> dict[str, Any]:
        """Delete retired keys whose tokens have all expired."""
        return {"removed": services().keys.retire()}


def _created(body: dict[str, Any], status: int = 201) -> Response:
    response = jsonify(body)
    response.status_code = status
    return _no_store(response)
