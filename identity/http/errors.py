"""The one error renderer: Infobip's shape everywhere, RFC 6749 §5.2 on OAuth endpoints."""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from authlib.oauth2 import OAuth2Error
from flask import Flask, Response, jsonify, request
from marshmallow import ValidationError
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from identity.errors import IdentityError, ServiceUnavailable
from identity.observability import request_id

log = logging.getLogger(__name__)

OAUTH_PATHS = frozenset({"/access_token", "/oauth/token", "/introspect", "/revoke"})

_HTTP_MESSAGE_IDS = {
    400: ("BAD_REQUEST", "Bad request"),
    401: ("UNAUTHORIZED", "Unauthorized"),
    403: ("FORBIDDEN", "Forbidden"),
    404: ("NOT_FOUND", "Not found"),
    405: ("BAD_REQUEST", "Method not allowed"),
    409: ("CONFLICT", "Conflict"),
    413: ("PAYLOAD_TOO_LARGE", "Request body too large"),
    415: ("BAD_REQUEST", "Unsupported media type"),
    422: ("BAD_REQUEST", "Invalid request"),
    429: ("TOO_MANY_REQUESTS", "Too many requests"),
}

_OAUTH_ERRORS = {400: "invalid_request", 405: "invalid_request", 413: "invalid_request"}


def infobip_error(
    status: int,
    message_id: str,
    text: str,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = {
        "requestError": {
            "serviceException": {"messageId": message_id, "text": text, **(extra or {})}
        }
    }
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def oauth_error(
    status: int, error: str, description: str, headers: dict[str, str] | None = None
) -> Response:
    """RFC 6749 §5.2 error response; never cached (§5.1)."""
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _is_oauth_path() -> bool:
    return request.path in OAUTH_PATHS


def _validation_errors(data: Any) -> dict[str, list[str]]:
    """Flatten webargs/marshmallow messages into ``{"field": ["message"]}``."""
    messages = data.get("messages", data) if isinstance(data, dict) else {}
    flat: dict[str, list[str]] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list):
            flat.setdefault(prefix or "_schema", []).extend(str(v) for v in value)
        else:
            flat.setdefault(prefix or "_schema", []).append(str(value))

    for location in ("json", "form", "query", "headers", "json_or_form", "files"):
        if isinstance(messages, dict) and location in messages:
            walk("", messages.pop(location))
    if isinstance(messages, dict) and messages:
        walk("", messages)
    return flat


def handle_identity_error(exc: IdentityError) -> Response:
    if _is_oauth_path() and exc.status in (400, 413):
        return oauth_error(exc.status, "invalid_request", exc.text)
    if exc.status >= 500:
        log.warning(
            "request failed: %s", exc.message_id, extra={"fields": {"request_id": request_id()}}
        )
    return infobip_error(exc.status, exc.message_id, exc.text, exc.extra(), exc.headers())


def handle_http_exception(exc: HTTPException) -> Response:
    status = exc.code or 500
    if _is_oauth_path() and status in _OAUTH_ERRORS:
        return oauth_error(status, _OAUTH_ERRORS[status], exc.description or "invalid request")
    message_id, text = _HTTP_MESSAGE_IDS.get(status, ("INTERNAL_ERROR", "Internal error"))
    extra: dict[str, Any] = {}
    data = getattr(exc, "data", None)
    if status == 422 or (status == 400 and data):
        status = 400
        errors = _validation_errors(data or {})
        if errors:
            extra["validationErrors"] = errors
    elif status == 400 and exc.description and "JSON" in exc.description:
        text = "Malformed JSON body"
    headers = {}
    if status == 405 and isinstance(exc.valid_methods, list | tuple | set | frozenset):  # type: ignore[attr-defined]
        headers["Allow"] = ", ".join(sorted(exc.valid_methods))  # type: ignore[attr-defined]
        status = 405
    if status >= 500:
        status, message_id, text = 500, "INTERNAL_ERROR", "Internal error"
    return infobip_error(status, message_id, text, extra, headers)


def handle_validation_error(exc: ValidationError) -> Response:
    return infobip_error(
        400,
        "BAD_REQUEST",
        "Invalid request",
        {"validationErrors": _validation_errors(exc.messages)},
    )


def handle_oauth2_error(exc: OAuth2Error) -> Response:
    status = exc.status_code or 400
    headers = dict(exc.get_headers())
    headers.pop("Content-Type", None)
    return oauth_error(
        status, exc.error or "invalid_request", exc.description or exc.error or "", headers
    )


def handle_database_down(exc: Exception) -> Response:
    """A lost database is a clean 503, never a 500 (and nothing half-written stays)."""
    from identity.extensions import db

    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection is already gone
        log.debug("rollback after database failure also failed")
    log.warning(
        "database unavailable: %s",
        type(exc).__name__,
        extra={"fields": {"request_id": request_id()}},
    )
    error = ServiceUnavailable("The database is unavailable", retry_after=2)
    if _is_oauth_path():
        return oauth_error(503, "temporarily_unavailable", error.text, error.headers())
    return infobip_error(error.status, error.message_id, error.text, None, error.headers())


def handle_data_error(exc: Exception) -> Response:
    """A value the database cannot hold (U+0000 in PostgreSQL text, ...) is the caller's 400."""
    from identity.extensions import db

    db.session.rollback()
    log.info(
        "value refused by the database: %s",
        type(exc).__name__,  # never the statement or its parameters: they may hold secrets
        extra={"fields": {"request_id": request_id()}},
    )
    if _is_oauth_path():
        return oauth_error(400, "invalid_request", "A parameter holds an invalid value")
    return infobip_error(400, "BAD_REQUEST", "A value in the request cannot be stored")


def handle_unexpected(exc: Exception) -> Response:
    """Log with the request id; the body never holds a traceback."""
    log.error(
        "unhandled exception",
        exc_info=exc,
        extra={"fields": {"request_id": request_id(), "path": request.path}},
    )
    if _is_oauth_path():
        return oauth_error(500, "server_error", "Internal error")
    return infobip_error(500, "INTERNAL_ERROR", "Internal error")


def init_app(app: Flask) -> None:
    app.register_error_handler(IdentityError, handle_identity_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(ValidationError, handle_validation_error)
    app.register_error_handler(OAuth2Error, handle_oauth2_error)
    app.register_error_handler(OperationalError, handle_database_down)
    app.register_error_handler(InterfaceError, handle_database_down)
    app.register_error_handler(DataError, handle_data_error)
    app.register_error_handler(psycopg.DataError, handle_data_error)  # should one escape unwrapped
    app.register_error_handler(Exception, handle_unexpected)
