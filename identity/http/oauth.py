"""OAuth endpoints: ``/access_token`` (alias ``/oauth/token``), ``/introspect``, ``/revoke``.

Bodies are form-encoded (RFC 6749 §4.4.2) or JSON (contract §0); a repeated parameter is
``invalid_request`` (RFC 6749 §3.2) and an empty one counts as absent. Errors are raised and
rendered by ``identity.http.errors`` in the RFC 6749 §5.2 shape.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Response, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from identity.core.bodies import FORM, JSON, body_pairs, single_params
from identity.extensions import get_service, get_settings, put
from identity.http.schemas import OAuthErrorSchema
from identity.oauth.requests import OAuthCall
from identity.oauth.server import Server
from identity.services.clients import ClientService

blp = Blueprint("oauth", __name__, description="OAuth 2.0 client credentials (RFC 6749 §4.4)")


class TokenRequestSchema(Schema):
    grant_type = fields.String(required=True, metadata={"example": "client_credentials"})
    scope = fields.String(metadata={"description": "space-separated; default: all the client's"})
    client_id = fields.String(metadata={"description": "client_secret_post only"})
    client_secret = fields.String(metadata={"description": "client_secret_post only"})


class TokenResponseSchema(Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True)
    expires_in = fields.Integer(required=True)
    scope = fields.String(required=True)


class TokenParamSchema(Schema):
    token = fields.String(required=True)
    token_type_hint = fields.String()
    client_id = fields.String()
    client_secret = fields.String()


class IntrospectionSchema(Schema):
    active = fields.Boolean(required=True)
    scope = fields.String()
    client_id = fields.String()
    token_type = fields.String()
    exp = fields.Integer()
    iat = fields.Integer()
    sub = fields.String()
    aud = fields.String()
    iss = fields.String()
    jti = fields.String()


def _body_doc(schema: type[Schema]) -> dict[str, Any]:
    content = {FORM: {"schema": schema}, "application/json": {"schema": schema}}
    return {"requestBody": {"required": True, "content": content}}


def init_app(app: Flask) -> None:
    settings = get_settings(app)
    clients = ClientService(settings.hash_pepper, settings.client_cache_seconds)
    put(app, "clients", clients)
    put(app, "oauth", Server(clients, get_service("tokens", app), settings.reuse_access_tokens))


# --- parsing -------------------------------------------------------------------------------
def oauth_call() -> OAuthCall:
    """The current request as Authlib sees it, with each parameter at most once."""
    params = single_params(body_pairs(request.mimetype, request.get_data()))
    return OAuthCall(request.method, request.path, request.headers, params)


def _respond(result: tuple[int, Any, list[tuple[str, str]]]) -> Response:
    status, body, headers = result
    response = Response(json.dumps(body, separators=(",", ":")), status, mimetype=JSON)
    for name, value in headers:
        if name != "Content-Type":
            response.headers[name] = value
    response.headers["Cache-Control"] = "no-store"  # RFC 6749 §5.1
    response.headers["Pragma"] = "no-cache"
    return response


def server() -> Server:
    return get_service("oauth")  # type: ignore[no-any-return]


# --- views ---------------------------------------------------------------------------------
@blp.route("/access_token")
class AccessToken(MethodView):
    @blp.doc(**_body_doc(TokenRequestSchema))
    @blp.response(200, TokenResponseSchema)
    @blp.alt_response(400, schema=OAuthErrorSchema, description="RFC 6749 §5.2 error")
    @blp.alt_response(401, schema=OAuthErrorSchema, description="invalid_client")
    def post(self) -> Response:
        """Client credentials grant (RFC 6749 §4.4): an RFC 9068 JWT access token."""
        return _respond(server().create_token_response(oauth_call()))


@blp.route("/oauth/token")
class OAuthToken(AccessToken):
    """Alias of ``/access_token``."""


@blp.route("/introspect")
class Introspect(MethodView):
    @blp.doc(**_body_doc(TokenParamSchema))
    @blp.response(200, IntrospectionSchema)
    @blp.alt_response(400, schema=OAuthErrorSchema, description="RFC 6749 §5.2 error")
    @blp.alt_response(401, schema=OAuthErrorSchema, description="invalid_client")
    def post(self) -> Response:
        """RFC 7662 token introspection; the caller authenticates as a client."""
        return _respond(server().create_endpoint_response("introspection", oauth_call()))


@blp.route("/revoke")
class Revoke(MethodView):
    @blp.doc(**_body_doc(TokenParamSchema))
    @blp.response(200)
    @blp.alt_response(400, schema=OAuthErrorSchema, description="RFC 6749 §5.2 error")
    @blp.alt_response(401, schema=OAuthErrorSchema, description="invalid_client")
    def post(self) -> Response:
        """RFC 7009 revocation: 200 even for unknown tokens; every instance refuses it after."""
        return _respond(server().create_endpoint_response("revocation", oauth_call()))
