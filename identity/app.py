"""The application factory: settings → extensions → services → blueprints → errors → cores."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask_smorest import Blueprint as SmorestBlueprint

from identity import observability, tracing
from identity.config import Settings
from identity.container import build_services
from identity.core.catalog import core_endpoints
from identity.core.routes import Router
from identity.extensions import SERVICES, api
from identity.http import errors as http_errors
from identity.http import openapi
from identity.http import strict as strict_input
from identity.http.cores import CoreApp
from identity.http.gate import BodyGate
from identity.http.schemas import ErrorSchema
from identity.metrics import SHARED_DEGRADED
from identity.models.base import db
from identity.storage.database import bound_round_trips, engine_options

# Feature areas served by Flask: each module exposes ``blp`` (a flask-smorest Blueprint).
# The signing endpoints and the broker's read are cores instead (``identity.http.cores``).
BLUEPRINTS = (
    "identity.http.discovery",
    "identity.http.ops",
    "identity.http.partners",
    "identity.http.admin",
    "identity.http.admin_users",
    "identity.http.admin_audit",
    "identity.http.admin_apis",
    "identity.http.customers",
    "identity.http.admin_inbox_apps",
    "identity.http.broker",
    "identity.http.exchange",
    "identity.http.adapter",
)


def create_app(config: Mapping[str, Any] | Settings | None = None) -> Flask:
    """Build an app. ``config`` overrides settings by attribute name (tests pass values here)."""
    settings = config if isinstance(config, Settings) else Settings.from_env(overrides=config)
    settings.require_secrets()
    observability.configure_logging(settings.log_level)
    tracing.install_from_environ()  # OTEL_* variables; before any engine exists, so it is traced

    app = Flask(__name__, instance_relative_config=False)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=engine_options(settings.database_url, settings.database_timeout),
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        MAX_FORM_MEMORY_SIZE=settings.max_body_bytes,
        API_TITLE="identity",
        API_VERSION="1.0.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_URL_PREFIX="/",
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.compact = True  # type: ignore[attr-defined]

    db.init_app(app)
    with app.app_context():
        bound_round_trips(db.engine, settings.database_timeout)
    api.ERROR_SCHEMA = ErrorSchema  # every operation documents the Infobip error shape
    # Invalid arguments are 400 BAD_REQUEST (docs/limits.md; webargs' default is 422): the
    # documented status and the raised one both follow.
    SmorestBlueprint.ARGUMENTS_PARSER.DEFAULT_VALIDATION_STATUS = 400
    api.init_app(app)
    app.extensions[SERVICES] = build_services(
        settings, on_degrade=lambda degraded: SHARED_DEGRADED.set(int(degraded))
    )
    observability.init_app(app)
    strict_input.install(app)  # issue 12: strict JSON bodies, path-segment rule; before blueprints

    for name in BLUEPRINTS:
        api.register_blueprint(importlib.import_module(name).blp)
    router = Router(core_endpoints(app.extensions[SERVICES]))
    openapi.document(api, router.endpoints)
    http_errors.init_app(app)  # after flask-smorest, so our renderer wins

    app.wsgi_app = CoreApp(app, app.wsgi_app, router)  # type: ignore[method-assign]
    if settings.trust_proxy:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trust_proxy)  # type: ignore[method-assign]
    # issue 12: the body gate must stay the outermost middleware (413 before anything acts).
    app.wsgi_app = BodyGate(  # type: ignore[method-assign]
        app, app.wsgi_app, settings.max_body_bytes, router.oauth_rules
    )
    # The request's trace span wraps it all (it reads no body); unchanged when tracing is off.
    app.wsgi_app = tracing.wrap(app.wsgi_app)  # type: ignore[method-assign,assignment]
    from identity.cli import register as register_cli

    register_cli(app)
    return app
