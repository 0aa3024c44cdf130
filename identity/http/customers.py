"""Customer login, refresh and logout (docs/customers-and-inbox.md), token mode and cookie mode.

Cookie mode keeps the customer token in ``customer_session`` (HttpOnly; Secure; SameSite=Strict;
Path=/). Requests authenticated by that cookie that change state must also come from an allowed
origin (``Origin``, else ``Referer``), so a cross-site page cannot ride the cookie.
"""

from __future__ import annotations

from typing import Any

from flask import Response, after_this_request, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from marshmallow.validate import Length, OneOf

from identity.core.browser import COOKIE, check_origin, customer_headers, customer_token
from identity.extensions import services
from identity.http.schemas import ErrorSchema
from identity.services.customers import MAX_PASSWORD
from identity.services.sessions import CustomerLogin, CustomerSessions

blp = Blueprint("customers", __name__, description="Customer login and sessions")


class LoginSchema(Schema):
    username = fields.String(required=True, validate=Length(1, 1024))
    password = fields.String(required=True, load_only=True, validate=Length(1, MAX_PASSWORD))
    session = fields.String(load_default="token", validate=OneOf(("token", "cookie")))


class CustomerTokenSchema(Schema):
    """Token mode: every field; cookie mode: ``customer_id`` and ``expires_in`` only."""

    access_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer(required=True)
    customer_id = fields.String(required=True)


def _sessions() -> CustomerSessions:
    return services().customer_sessions


# --- cross-site protection and CORS (identity.core.browser, shared with the inbox core) -----
def presented_customer_token() -> tuple[str, bool]:
    """``(token, from_cookie)``: Bearer first, else the cookie (then with the origin check)."""
    allowed = services().settings.allowed_origins
    return customer_token(request.headers, request.cookies.get(COOKIE), allowed)


def _customer_headers(response: Response) -> Response:
    for name, value in customer_headers(
        request.headers, request.method, services().settings.cors_origins
    ):
        if name == "Vary":
            response.vary.add(value)
        else:
            response.headers[name] = value
    return response


blp.after_request(_customer_headers)


# --- delivering a token ----------------------------------------------------------------------
def _set_cookie(token: str, max_age: int) -> None:
    secure = services().settings.cookie_secure

    @after_this_request
    def put_cookie(response: Response) -> Response:
        response.set_cookie(
            COOKIE,
            token,
            max_age=max_age,
            httponly=True,
            secure=secure,
            samesite="Strict",
            path="/",
        )
        return response


def _clear_cookie() -> None:
    secure = services().settings.cookie_secure

    @after_this_request
    def drop_cookie(response: Response) -> Response:
        response.delete_cookie(COOKIE, httponly=True, secure=secure, samesite="Strict", path="/")
        return response


def deliver(login: CustomerLogin, cookie: bool) -> dict[str, Any]:
    expires_in = login.token.expires_in
    if cookie:
        _set_cookie(login.token.token, expires_in)
        return {"customer_id": login.customer_id, "expires_in": expires_in}
    return {
        "access_token": login.token.token,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "customer_id": login.customer_id,
    }


# --- views -----------------------------------------------------------------------------------
@blp.route("/customer_authenticate")
class Authenticate(MethodView):
    @blp.arguments(LoginSchema())
    @blp.response(200, CustomerTokenSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="invalid login details")
    @blp.alt_response(403, schema=ErrorSchema, description="cookie mode from a foreign origin")
    @blp.alt_response(429, schema=ErrorSchema, description="too many failed logins")
    def post(self, args: dict[str, Any]) -> dict[str, Any]:
        """Log a customer in: a customer token in the body, or in a cookie with session=cookie."""
        cookie = args["session"] == "cookie"
        if cookie:
            # Login CSRF: a browser's cross-site POST is refused.
            check_origin(request.headers, services().settings.allowed_origins, required=False)
        login = _sessions().login(args["username"], args["password"], request.remote_addr or "-")
        return deliver(login, cookie)


@blp.route("/customer_authenticate/refresh")
class Refresh(MethodView):
    @blp.response(200, CustomerTokenSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="invalid token or ended session")
    @blp.alt_response(403, schema=ErrorSchema, description="cookie from a foreign origin")
    def post(self) -> dict[str, Any]:
        """A new customer token for the same session, up to the absolute session limit."""
        token, from_cookie = presented_customer_token()
        return deliver(_sessions().refresh(token), from_cookie)


@blp.route("/customer_logout")
class Logout(MethodView):
    @blp.response(204)
    @blp.alt_response(401, schema=ErrorSchema, description="invalid token")
    @blp.alt_response(403, schema=ErrorSchema, description="cookie from a foreign origin")
    def post(self) -> None:
        """End the session: this token (and its session) is refused from now on."""
        token, from_cookie = presented_customer_token()
        _sessions().logout(token)
        if from_cookie:
            _clear_cookie()
