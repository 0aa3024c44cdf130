"""The application factory: settings → extensions → wiring → blueprints → error handlers → CLI."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask_smorest import Blueprint as SmorestBlueprint

from identity import extensions, observability
from identity.config import Settings
from identity.extensions import api, db, migrate, put
from identity.http import errors as http_errors
from identity.http import strict as strict_input
from identity.http.schemas import ErrorSchema
from identity.services.api_keys import ApiKeyService
from identity.services.customers import CustomerService
from identity.services.keys import KeyService
from identity.services.tokens import TokenService
from identity.storage.keys import DatabaseKeyStore
from identity.storage.shared import FallbackShared, build_shared

# Feature areas: each module exposes ``blp`` (a flask-smorest Blueprint) and may expose
# ``init_app(app)`` to wire its services. Registered in this order.
BLUEPRINTS = (
    "identity.http.discovery",
    "identity.http.ops",
    "identity.http.oauth",
    "identity.http.partners",
    "identity.http.admin",
    "identity.http.admin_users",
    "identity.http.customers",
    "identity.http.inbox",
    "identity.http.broker",
    "identity.http.exchange",
    "identity.http.adapter",
)


def create_app(config: Mapping[str, Any] | Settings | None = None) -> Flask:
    """Build an app. ``config`` overrides settings by attribute name (tests pass values here)."""
    settings = config if isinstance(config, Settings) else Settings.from_env(overrides=config)
    settings.require_secrets()
    observability.configure_logging(settings.log_level)

    app = Flask(__name__, instance_relative_config=False)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(settings.database_url),
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        MAX_FORM_MEMORY_SIZE=settings.max_body_bytes,
        JSON_SORT_KEYS=False,
        API_TITLE="identity",
        API_VERSION="1.0.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_URL_PREFIX="/",
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.compact = True  # type: ignore[attr-defined]
    if settings.trust_proxy:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trust_proxy)  # type: ignore[method-assign]

    db.init_app(app)
    migrate.init_app(app, db, directory=_migrations_dir())
    api.ERROR_SCHEMA = ErrorSchema  # every operation documents the Infobip error shape
    # Invalid arguments are 400 BAD_REQUEST in the contract (webargs' default is 422): the
    # documented status and the raised one both follow.
    SmorestBlueprint.ARGUMENTS_PARSER.DEFAULT_VALIDATION_STATUS = 400
    api.init_app(app)
    _wire(app, settings)
    observability.init_app(app)
    strict_input.install(app)  # issue 12: strict JSON bodies, path-segment rule; before blueprints

    for name in BLUEPRINTS:
        module = importlib.import_module(name)
        if hasattr(module, "init_app"):
            module.init_app(app)
        api.register_blueprint(module.blp)

    http_errors.init_app(app)  # after flask-smorest, so our renderer wins
    if settings.hot_path:
        from identity.http.hotpath import HotPath

        app.wsgi_app = HotPath(app, app.wsgi_app)  # type: ignore[method-assign]
    from identity.http.gate import BodyGate

    # issue 12: the body gate must stay the outermost middleware (413 before anything acts).
    app.wsgi_app = BodyGate(app, app.wsgi_app, settings.max_body_bytes)  # type: ignore[method-assign]
    from identity.cli import register as register_cli

    register_cli(app)
    return app


def _wire(app: Flask, settings: Settings) -> None:
    put(app, "settings", settings)
    shared = build_shared(settings.redis_url, settings.redis_prefix, settings.database_url)
    if isinstance(shared, FallbackShared):
        shared.on_degrade = lambda degraded: observability.SHARED_DEGRADED.set(int(degraded))
    put(app, "shared", shared)
    keys = KeyService(
        DatabaseKeyStore(settings.key_passphrase),
        bits=settings.key_size,
        max_token_ttl=settings.max_token_ttl,
        leeway=settings.clock_leeway,
        cache_seconds=settings.keyring_cache_seconds,
    )
    put(app, "keys", keys)
    put(app, "tokens", TokenService(keys, settings, shared))
    put(app, "api_keys", ApiKeyService(settings.hash_pepper, settings.client_cache_seconds))
    put(app, "customers", CustomerService(settings))


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        # Several gunicorn workers share the file: wait for locks instead of failing at once.
        return {"connect_args": {"timeout": 15, "check_same_thread": False}}
    return {
        "pool_pre_ping": True,
        "pool_size": 5,
        "max_overflow": 10,
        "pool_timeout": 5,
        "connect_args": {"connect_timeout": 3},
    }


def _migrations_dir() -> str:
    from pathlib import Path

    return str(Path(__file__).parent / "migrations")


__all__ = ["create_app", "extensions"]
