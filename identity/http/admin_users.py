"""Admin API for customer accounts: create, list, read, update the profile, disable.

Every endpoint needs an access token with scope ``admin``. Accounts are named in paths by
their opaque customer ID (URL-safe, unlike usernames). ``DELETE`` disables: the account and
its customer ID stay, logins are refused and every open session ends.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields
from marshmallow.validate import Length, Range

from identity.extensions import services
from identity.http.schemas import ErrorSchema
from identity.http.security import require
from identity.models import Customer
from identity.services.customers import MAX_PASSWORD, CustomerService

blp = Blueprint("admin_users", __name__, description="Customer accounts (admin)")


def _printable(value: str) -> None:
    if not value.isprintable():  # also keeps NUL out of PostgreSQL text columns
        raise ValidationError("Must contain printable characters only.")


class ProfileFields(Schema):
    name = fields.String(allow_none=True, validate=[Length(max=255), _printable])
    email = fields.Email(allow_none=True, validate=Length(max=320))
    phone = fields.String(allow_none=True, validate=[Length(max=64), _printable])
    locale = fields.String(allow_none=True, validate=[Length(max=35), _printable])
    attributes = fields.Dict(keys=fields.String())


class UserCreateSchema(ProfileFields):
    username = fields.String(required=True, validate=[Length(1, 255), _printable])
    password = fields.String(required=True, load_only=True, validate=Length(1, MAX_PASSWORD))


class UserUpdateSchema(ProfileFields):
    password = fields.String(load_only=True, validate=Length(1, MAX_PASSWORD))
    disabled = fields.Boolean()


class UserSchema(ProfileFields):
    id = fields.Integer(required=True)
    username = fields.String(required=True)
    customer_id = fields.String(required=True)
    disabled = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)


class UserListSchema(Schema):
    users = fields.List(fields.Nested(UserSchema), required=True)


class PageSchema(Schema):
    limit = fields.Integer(load_default=100, validate=Range(1, 1000))
    offset = fields.Integer(load_default=0, validate=Range(0, 2**31 - 1))


def _customers() -> CustomerService:
    return services().customers


def _errors(*statuses: int) -> Any:
    """Document the error responses (Infobip shape) an operation can give."""

    def decorate(view: Any) -> Any:
        for status in (401, 403, *statuses):
            view = blp.alt_response(status, schema=ErrorSchema)(view)
        return view

    return decorate


@blp.route("/admin/users")
class Users(MethodView):
    @require(access=["admin"])
    @blp.arguments(PageSchema(), location="query")
    @blp.response(200, UserListSchema)
    @_errors()
    def get(self, page: dict[str, Any]) -> dict[str, Any]:
        """List accounts, oldest first."""
        return {"users": _customers().listing(page["limit"], page["offset"])}

    @require(access=["admin"])
    @blp.arguments(UserCreateSchema())
    @blp.response(201, UserSchema)
    @_errors(409)
    def post(self, args: dict[str, Any]) -> Customer:
        """Create an account; a username equal to another after NFKC + case folding is 409."""
        return _customers().create(args.pop("username"), args.pop("password"), **args)


@blp.route("/admin/users/<string:customer_id>")
class User(MethodView):
    @require(access=["admin"])
    @blp.response(200, UserSchema)
    @_errors(404)
    def get(self, customer_id: str) -> Customer:
        """One account by customer ID."""
        return _customers().by_customer_id(customer_id)

    @require(access=["admin"])
    @blp.arguments(UserUpdateSchema())
    @blp.response(200, UserSchema)
    @_errors(404)
    def patch(self, changes: dict[str, Any], customer_id: str) -> Customer:
        """Set profile fields (``attributes`` is replaced), a new password, or ``disabled``."""
        customers = _customers()
        return customers.update(customers.by_customer_id(customer_id), changes)

    @require(access=["admin"])
    @blp.response(204)
    @_errors(404)
    def delete(self, customer_id: str) -> None:
        """Disable the account: logins are refused and its sessions end."""
        customers = _customers()
        customers.disable(customers.by_customer_id(customer_id))
