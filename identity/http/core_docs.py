"""The OpenAPI description of the endpoints the cores answer (``identity.http.cores``).

They have no Flask view for flask-smorest to read, so their operations are declared here,
with the same marshmallow schemas, and added to ``/openapi.json`` by ``document(api)``.
"""

from __future__ import annotations

from typing import Any

from flask_smorest import Api
from marshmallow import Schema, fields, validate
from werkzeug.routing import Rule

from identity.core.bodies import FORM, JSON
from identity.http.schemas import ErrorSchema, HealthSchema, JwksSchema, OAuthErrorSchema


class TokenRequestSchema(Schema):
    grant_type = fields.String(required=True, metadata={"example": "client_credentials"})
    scope = fields.String(metadata={"description": "space-separated; default: all the client's"})
    client_id = fields.String(metadata={"description": "client_secret_post (or private_key_jwt)"})
    client_secret = fields.String(metadata={"description": "client_secret_post only"})
    client_assertion_type = fields.String(
        metadata={"example": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}
    )
    client_assertion = fields.String(metadata={"description": "private_key_jwt: a signed JWT"})


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
    client_assertion_type = fields.String()
    client_assertion = fields.String()


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


class InboxAppChoiceSchema(Schema):
    app = fields.String(metadata={"description": "inbox app name; default: the default app"})


class IdentifierSchema(InboxAppChoiceSchema):
    identifier = fields.String(required=True, validate=validate.Length(1, 256))


class InboxTokenSchema(Schema):
    token = fields.String(required=True)
    expires_in = fields.Integer(required=True, allow_none=True)
    app = fields.String(required=True)
    vendor = fields.String(required=True)


class AuthorizationSchema(Schema):
    authorization = fields.String(required=True, metadata={"example": "IBSSO 2f9b4d31..."})
    token_type = fields.String(
        required=True, validate=validate.OneOf(["IBSSO", "Bearer", "App", "Basic"])
    )
    expires_at = fields.String(
        required=True, allow_none=True, metadata={"description": "RFC 3339; null: never expires"}
    )


def _content(schema: type[Schema], *types: str) -> dict[str, Any]:
    return {"content": {kind: {"schema": schema} for kind in types or (JSON,)}}


def _responses(ok: tuple[int, type[Schema] | None], errors: dict[int, str], oauth: bool) -> Any:
    error_schema = OAuthErrorSchema if oauth else ErrorSchema
    status, schema = ok
    out: dict[str, Any] = {
        str(status): {"description": "OK", **(_content(schema) if schema else {})}
    }
    for code, description in errors.items():
        out[str(code)] = {"description": description, **_content(error_schema)}
    return out


def _operation(
    summary: str, tag: str, request: dict[str, Any] | None, responses: Any, **extra: Any
) -> Any:
    operation = {"summary": summary, "tags": [tag], "responses": responses, **extra}
    if request is not None:
        operation["requestBody"] = request
    return operation


OAUTH_ERRORS = {400: "RFC 6749 §5.2 error", 401: "invalid_client"}


def document(api: Api) -> None:
    """Add the core endpoints' operations to the API's OpenAPI document."""
    gets: tuple[tuple[str, str, str, type[Schema]], ...] = (
        ("/healthz", "200 while the process serves", "ops", HealthSchema),
        ("/.well-known/jwks.json", "The public signing keys (RFC 7517)", "discovery", JwksSchema),
    )
    for path, summary, tag, schema in gets:
        responses = _responses((200, schema), {}, oauth=False)
        api.spec.path(
            rule=Rule(path), operations={"get": _operation(summary, tag, None, responses)}
        )
    form_or_json = {FORM, JSON}
    token = _operation(
        "Client credentials grant (RFC 6749 §4.4): an RFC 9068 JWT access token",
        "oauth",
        {"required": True, **_content(TokenRequestSchema, *sorted(form_or_json))},
        _responses((200, TokenResponseSchema), OAUTH_ERRORS, oauth=True),
    )
    for path in ("/access_token", "/oauth/token"):
        api.spec.path(rule=Rule(path), operations={"post": token})
    posts: tuple[tuple[str, str, type[Schema] | None], ...] = (
        ("/introspect", "RFC 7662 token introspection", IntrospectionSchema),
        ("/revoke", "RFC 7009 revocation: 200 even for unknown tokens", None),
    )
    for path, summary, post_schema in posts:
        body = {"required": True, **_content(TokenParamSchema, *sorted(form_or_json))}
        responses = _responses((200, post_schema), OAUTH_ERRORS, oauth=True)
        api.spec.path(
            rule=Rule(path), operations={"post": _operation(summary, "oauth", body, responses)}
        )
    inbox_errors = {
        400: "invalid request",
        401: "missing or invalid credentials",
        404: "unknown app",
        503: "no inbox app configured",
    }
    api.spec.path(
        rule=Rule("/inbox/token"),
        operations={
            "post": _operation(
                "The inbox token of the logged-in customer (customer token as Bearer or cookie)",
                "inbox",
                {"required": False, **_content(InboxAppChoiceSchema)},
                _responses(
                    (200, InboxTokenSchema),
                    {**inbox_errors, 403: "cookie from a foreign origin"},
                    oauth=False,
                ),
                security=[{"bearerAuth": []}],
            )
        },
    )
    api.spec.path(
        rule=Rule("/v1/inbox/tokens"),
        operations={
            "post": _operation(
                "An inbox token for your own user identifier (API key with scope inbox:issue)",
                "inbox",
                {"required": True, **_content(IdentifierSchema)},
                _responses(
                    (200, InboxTokenSchema),
                    {**inbox_errors, 403: "the API key lacks inbox:issue"},
                    oauth=False,
                ),
                security=[{"apiKeyAuth": []}],
            )
        },
    )
    api.spec.path(
        rule=Rule("/upstream/connections/<name>/authorization"),
        operations={
            "get": _operation(
                "The Authorization header to call the upstream with (cached, refreshed ahead)",
                "broker",
                None,
                _responses(
                    (200, AuthorizationSchema),
                    {
                        401: "missing or invalid access token",
                        403: "the token lacks upstream:read",
                        404: "unknown connection",
                        409: "Exchange authorization expired",
                        502: "UPSTREAM_UNAUTHORIZED",
                        503: "UPSTREAM_UNAVAILABLE, Retry-After",
                    },
                    oauth=False,
                ),
                security=[{"bearerAuth": []}],
            )
        },
    )
