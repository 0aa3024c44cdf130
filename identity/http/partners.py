"""``POST /getprofile``: a partner reads a customer's profile (docs/partners.md).

Needs a Bearer/OAuth access token with ``profile:read`` and an API key with ``profile:read``.
The customer is named exactly one way: ``X-Customer-Id``, ``customer_id`` or ``customer_token``.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate

from identity.errors import BadRequest, NotFound, Unauthorized
from identity.extensions import services
from identity.http.schemas import ErrorSchema
from identity.http.security import require

blp = Blueprint("partners", __name__, description="Partners: customer profiles")


class ProfileRequestSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    customer_id = fields.String(validate=validate.Length(1, 100))
    customer_token = fields.String(validate=validate.Length(1, 8192))


class ProfileSchema(Schema):
    name = fields.String()
    email = fields.String()
    phone = fields.String()
    locale = fields.String()
    attributes = fields.Dict()


class ProfileResponseSchema(Schema):
    customer_id = fields.String(required=True)
    profile = fields.Nested(ProfileSchema, required=True)


class CustomerIdHeaderSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    x_customer_id = fields.String(data_key="X-Customer-Id", validate=validate.Length(1, 100))


def named_customer(body: dict[str, Any]) -> str:
    """The customer ID from exactly one of the header, ``customer_id`` or ``customer_token``."""
    header = request.headers.get("X-Customer-Id")
    named = [v for v in (header, body.get("customer_id"), body.get("customer_token")) if v]
    if len(named) != 1:
        raise BadRequest(
            "Name the customer one way: X-Customer-Id, customer_id or customer_token",
            {"customer_id": ["exactly one of X-Customer-Id, customer_id, customer_token"]},
        )
    token = body.get("customer_token")
    if not token:
        if not str(named[0]).isprintable():  # e.g. NUL, which PostgreSQL refuses in a query
            raise NotFound("Unknown customer")
        return str(named[0])
    try:
        claims = services().tokens.verify_customer_token(token)
    except Unauthorized:
        raise Unauthorized("Invalid or expired customer token") from None
    return str(claims["sub"])


@blp.route("/getprofile")
class GetProfile(MethodView):
    @blp.response(200, ProfileResponseSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="customer not named exactly once")
    @blp.alt_response(401, schema=ErrorSchema, description="missing or invalid credential")
    @blp.alt_response(403, schema=ErrorSchema, description="a credential lacks profile:read")
    @blp.alt_response(404, schema=ErrorSchema, description="unknown customer")
    @blp.doc(security=[{"bearerAuth": [], "apiKeyAuth": []}])
    @require(access=["profile:read"], api_key=["profile:read"])
    @blp.arguments(CustomerIdHeaderSchema(), location="headers")
    @blp.arguments(ProfileRequestSchema(), location="json", required=False)
    def post(self, _headers: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        """A customer's profile (name, email, phone, locale, attributes)."""
        customers = services().customers
        customer_id = named_customer(body)
        customer = customers.by_customer_id(customer_id)
        if customer.disabled:
            raise NotFound("Unknown customer")
        return {"customer_id": customer.customer_id, "profile": customers.profile(customer)}
