"""Infobip Exchange (docs/exchange.md): connect, callback, the configuration page, signed hooks.

Browser binding: ``/exchange/connect`` gives the browser a random id in a signed, HttpOnly,
``SameSite=None; Secure`` cookie (the page lives in the portal's third-party iframe); the state
row stores only its hash, so a callback from another browser is refused. After a successful
callback the account key is remembered in a second signed cookie, which is how
``/exchange/configure`` knows whose page it is; that cookie also carries the settings form's
CSRF token (double submit, compared in constant time).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Response, g, redirect, render_template, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from itsdangerous import BadSignature, URLSafeTimedSerializer
from marshmallow import EXCLUDE, Schema, fields

from identity.extensions import services
from identity.http.signatures import exchange_signed
from identity.services.exchange import (
    SETTING_FIELDS,
    STATE_TTL,
    ExchangeService,
    FlowError,
    connection_name,
)

blp = Blueprint("exchange", __name__, description="Infobip Exchange app: OAuth and signed hooks")
log = logging.getLogger(__name__)

BROWSER_COOKIE = "identity_exchange_browser"
ACCOUNT_COOKIE = "identity_exchange_account"
ACCOUNT_MAX_AGE = 8 * 3600  # how long the configuration page remembers the account
COOKIE_PATH = "/exchange"
SETTINGS_REASONS = frozenset({"csrf", "invalid_settings"})
HTML: dict[str, Any] = {"type": "string", "description": "an HTML page"}


def _html_errors(*statuses: int) -> Any:
    """Document the HTML error pages of the flow (they are pages, not JSON: shown in the iframe)."""

    def decorate(view: Any) -> Any:
        for status in statuses:
            view = blp.alt_response(status, schema=HTML, content_type="text/html")(view)
        return view

    return decorate


def _service() -> ExchangeService:
    return services().exchange


# --- cookies ----------------------------------------------------------------------------------
def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        services().settings.secret_key, salt=f"identity.exchange.{purpose}"
    )


def _read_cookie(name: str, purpose: str, max_age: int) -> Any:
    raw = request.cookies.get(name)
    if not raw:
        return None
    try:
        return _serializer(purpose).loads(raw, max_age=max_age)
    except BadSignature:  # also SignatureExpired
        return None


def _cookie_flags() -> dict[str, Any]:
    """The page lives in the portal's third-party iframe: SameSite=None; Secure; Partitioned."""
    secure = bool(services().settings.cookie_secure)
    return {
        "path": COOKIE_PATH,
        "secure": secure,
        "httponly": True,
        "samesite": "None" if secure else "Lax",  # None needs Secure; Lax for plain-http dev only
        "partitioned": secure,  # CHIPS: kept per portal site, works where 3rd-party cookies don't
    }


def _set_cookie(response: Response, name: str, purpose: str, value: Any, max_age: int) -> None:
    response.set_cookie(name, _serializer(purpose).dumps(value), max_age=max_age, **_cookie_flags())


def _browser_id() -> str | None:
    value = _read_cookie(BROWSER_COOKIE, "browser", STATE_TTL)
    return value if isinstance(value, str) else None


def _session() -> dict[str, str] | None:
    value = _read_cookie(ACCOUNT_COOKIE, "account", ACCOUNT_MAX_AGE)
    return value if isinstance(value, dict) and {"a", "c"} <= set(value) else None


# --- headers ----------------------------------------------------------------------------------
def _page(body: str, status: int = 200) -> Response:
    """An HTML page of the flow."""
    return _frame_policy(Response(body, status=status, mimetype="text/html"))


def _frame_policy(response: Response) -> Response:
    """Only the portal origins may frame the flow's pages (they all share its iframe)."""
    origins = " ".join(services().settings.exchange_portal_origins) or "'none'"
    response.headers["Content-Security-Policy"] = (
        f"frame-ancestors {origins}; "
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'"
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _error_page(exc: FlowError) -> Response:
    log.warning("exchange authorization failed: %s", exc.reason)
    heading = (
        "The settings were not saved"
        if exc.reason in SETTINGS_REASONS
        else "The connection to Infobip did not complete"
    )
    body = render_template(
        "exchange/error.html", heading=heading, message=exc.text, reason=exc.reason
    )
    return _page(body, exc.status)


# --- the authorization flow ---------------------------------------------------------------------
class StateQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    state = fields.String(load_default=None, metadata={"description": "The iframe's state"})


class CallbackQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    code = fields.String(load_default=None)
    state = fields.String(load_default=None)
    error = fields.String(load_default=None)


@blp.route("/exchange/connect")
class Connect(MethodView):
    @blp.arguments(StateQuery(), location="query")
    @blp.response(302, description="Redirect to the Exchange authorize endpoint (PKCE S256)")
    @_html_errors(400)
    def get(self, args: dict[str, Any]) -> Response:
        """Start the authorization: bind a state to this browser, go to Exchange."""
        browser = _browser_id() or secrets.token_urlsafe(32)
        try:
            url = _service().start(browser, args["state"])
        except FlowError as exc:
            return _error_page(exc)
        response = _frame_policy(redirect(url, code=302))
        _set_cookie(response, BROWSER_COOKIE, "browser", browser, STATE_TTL)
        return response


@blp.route("/exchange/callback")
class Callback(MethodView):
    @blp.arguments(CallbackQuery(), location="query")
    @blp.response(303, description="Connected: on to the configuration page")
    @_html_errors(400, 403, 502)
    def get(self, args: dict[str, Any]) -> Response:
        """Finish the authorization: check the state, exchange the code, store the token."""
        service, browser = _service(), _browser_id()
        try:
            if args["error"] is not None:
                raise service.deny(args["state"], browser, args["error"])
            account = service.complete(args["code"], args["state"], browser)
        except FlowError as exc:
            return _error_page(exc)
        log.info("exchange account connected", extra={"fields": {"account": account.account_key}})
        _forget_cached(account.account_key)
        response = _frame_policy(redirect(url_for("exchange.Configure"), code=303))
        session = {"a": account.account_key, "c": secrets.token_urlsafe(32)}
        _set_cookie(response, ACCOUNT_COOKIE, "account", session, ACCOUNT_MAX_AGE)
        response.delete_cookie(BROWSER_COOKIE, **_cookie_flags())
        return response


def _forget_cached(account_key: str) -> None:
    """A reconnect replaces the token: this instance's broker must not serve the old one."""
    services().broker.forget(connection_name(account_key))


# --- the configuration page ---------------------------------------------------------------------
SettingsForm = Schema.from_dict(
    {"csrf_token": fields.String(load_default="")}
    | {f.name: fields.String(load_default="") for f in SETTING_FIELDS},
    name="SettingsForm",
)


def _render_configure(saved: bool = False) -> Response:
    session, service = _session(), _service()
    account = service.account(session["a"]) if session else None
    state = request.args.get("state")
    connect_url = url_for("exchange.Connect") + (f"?{urlencode({'state': state})}" if state else "")
    context: dict[str, Any] = {"account": account, "connect_url": connect_url, "saved": saved}
    if account is not None and session is not None:
        context |= {
            "settings": service.app_settings(account.account_key),
            "csrf_token": session["c"],
            "roles": [str(r.get("name", "")).strip() for r in account.roles if isinstance(r, dict)],
            "expired": account.expires_at <= datetime.now(UTC),
        }
    return _page(render_template("exchange/configure.html", **context))


@blp.route("/exchange/configure")
class Configure(MethodView):
    @blp.response(200, HTML, content_type="text/html", description="The configuration page")
    def get(self) -> Response:
        """The page the Exchange portal frames: connection status, Connect, app settings."""
        return _render_configure(saved=request.args.get("saved") == "1")

    @blp.arguments(SettingsForm(unknown=EXCLUDE), location="form")
    @blp.response(303, description="Saved: back to the configuration page")
    @_html_errors(400, 403)
    def post(self, form: dict[str, str]) -> Response:
        """Save the account's app settings (CSRF-protected; secrets sealed, never echoed)."""
        session = _session()
        try:
            if session is None or not hmac.compare_digest(
                form["csrf_token"].encode(), session["c"].encode()
            ):
                raise FlowError("csrf", "The form expired or did not come from this page", 403)
            _service().save_settings(session["a"], form)
        except FlowError as exc:
            return _error_page(exc)
        return _frame_policy(redirect(url_for("exchange.Configure", saved=1), code=303))


# --- calls Exchange makes -------------------------------------------------------------------------
class EmailSchema(Schema):
    email = fields.Email(required=True)


class CustomerIdSchema(Schema):
    customer_id = fields.String(required=True)


@blp.route("/exchange/hooks/customer-lookup")
class CustomerLookup(MethodView):
    @exchange_signed
    @blp.arguments(EmailSchema())
    @blp.response(200, CustomerIdSchema)
    def post(self, body: dict[str, str]) -> dict[str, str]:
        """Answers bot block: the customer ID for an email (Exchange-signed request)."""
        log.info("customer lookup", extra={"fields": {"account": g.exchange_account_key}})
        return {"customer_id": _service().customer_id_for_email(body["email"])}


@blp.after_request
def _not_framable(response: Response) -> Response:
    """JSON endpoints of this blueprint may never be framed."""
    response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
    return response
