"""The bodies the cores read and write, as marshmallow schemas: one declaration each, used by the
runtime check of JSON bodies (``identity.core.routes``) and by the OpenAPI document."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class ClientAuthSchema(Schema):
    """Client authentication in the body (RFC 6749 §2.3.1, RFC 7523 §2.2); or Basic instead."""

    client_id = fields.String(metadata={"description": "client_secret_post (or private_key_jwt)"})
    client_secret = fields.String(metadata={"description": "client_secret_post only"})
    client_assertion_type = fields.String(
        metadata={"example": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}
    )
    client_assertion = fields.String(metadata={"description": "private_key_jwt: a signed JWT"})


class TokenRequestSchema(ClientAuthSchema):
    grant_type = fields.String(required=True, metadata={"example": "client_credentials"})
    scope = fields.String(metadata={"description": "space-separated; default: all the client's"})
    resource = fields.String(
        metadata={"description": "RFC 8707: the API's audience; `audience` is a synonym"}
    )


class TokenResponseSchema(Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True)
    expires_in = fields.Integer(required=True)
    scope = fields.String(required=True)


class TokenParamSchema(ClientAuthSchema):
    token = fields.String(required=True)
    token_type_hint = fields.String()


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


class RevocationSchema(Schema):
    """RFC 7009 §2.2: an empty JSON object."""


class InboxAppChoiceSchema(Schema):
    app = fields.String(metadata={"description": "inbox app name; default: the default app"})


class IdentifierSchema(InboxAppChoiceSchema):
    identifier = fields.String(required=True)  # its 1-256 printable rule: InboxService


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


class HealthSchema(Schema):
    status = fields.String(required=True)
    checks = fields.Dict(keys=fields.String(), values=fields.String())


class JwkSchema(Schema):
    kty = fields.String(required=True, metadata={"description": "RSA or EC"})
    kid = fields.String(required=True, metadata={"description": "RFC 7638 thumbprint"})
    use = fields.String()
    alg = fields.String(metadata={"description": "RS256 (RSA) or ES256 (EC)"})
    n = fields.String(metadata={"description": "RSA"})
    e = fields.String(metadata={"description": "RSA"})
    crv = fields.String(metadata={"description": "EC: P-256"})
    x = fields.String(metadata={"description": "EC"})
    y = fields.String(metadata={"description": "EC"})


class JwksSchema(Schema):
    keys = fields.List(fields.Nested(JwkSchema), required=True)
