"""Shared marshmallow schemas of the HTTP edge (feature areas keep theirs beside their views)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from identity.limits import Bounds


class MetadataSchema(Schema):
    issuer = fields.String(required=True)
    token_endpoint = fields.String(required=True)
    jwks_uri = fields.String(required=True)
    introspection_endpoint = fields.String()
    revocation_endpoint = fields.String()
    grant_types_supported = fields.List(fields.String())
    token_endpoint_auth_methods_supported = fields.List(fields.String())
    introspection_endpoint_auth_methods_supported = fields.List(fields.String())
    revocation_endpoint_auth_methods_supported = fields.List(fields.String())
    response_types_supported = fields.List(fields.String())
    token_endpoint_auth_signing_alg_values_supported = fields.List(fields.String())
    introspection_endpoint_auth_signing_alg_values_supported = fields.List(fields.String())
    revocation_endpoint_auth_signing_alg_values_supported = fields.List(fields.String())
    scopes_supported = fields.List(fields.String())


class ServiceExceptionSchema(Schema):
    messageId = fields.String(required=True)  # noqa: N815 - Infobip's field name
    text = fields.String(required=True)
    validationErrors = fields.Dict(  # noqa: N815
        keys=fields.String(), values=fields.List(fields.String())
    )


class RequestErrorInnerSchema(Schema):
    serviceException = fields.Nested(ServiceExceptionSchema, required=True)  # noqa: N815


class ErrorSchema(Schema):
    """Infobip's error shape (docs/limits.md)."""

    requestError = fields.Nested(RequestErrorInnerSchema, required=True)  # noqa: N815


class OAuthErrorSchema(Schema):
    """RFC 6749 §5.2 error response."""

    error = fields.String(required=True)
    error_description = fields.String()


def within(bounds: Bounds) -> validate.Validator:
    """The validator of a bound declared in ``identity.limits`` (text by its length)."""
    if bounds.unit == "characters":
        return validate.Length(int(bounds.low), int(bounds.high))
    return validate.Range(bounds.low, bounds.high)
