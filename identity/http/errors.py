"""Flask's side of the one error renderer (``identity.core.errors``).

Framework exceptions (routing, webargs/marshmallow validation, a lost database, anything
unexpected) are turned into our exception tree here and rendered like every core's errors.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, request
from marshmallow import ValidationError
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import MethodNotAllowed as WerkzeugMethodNotAllowed

from identity.core import errors as core_errors
from identity.core.http import Response as CoreResponse
from identity.core.http import validation_errors
from identity.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    IdentityError,
    InternalError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    Unauthorized,
)
from identity.models.base import db
from identity.observability import request_id
from identity.storage.transactions import is_transaction_conflict

log = logging.getLogger(__name__)

# Werkzeug's statuses that a caller can cause, as ours (anything else is a 500).
_HTTP_ERRORS: dict[int, type[IdentityError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
}


def to_flask(response: CoreResponse) -> Response:
    flask_response = Response(response.body, response.status, content_type=response.content_type)
    for name, value in response.headers:
        flask_response.headers[name] = value
    return flask_response


def _render(exc: IdentityError) -> Response:
    return to_flask(core_errors.render(exc, oauth=False))  # OAuth endpoints are all cores


def from_http_exception(exc: HTTPException) -> IdentityError:
    """Werkzeug's routing and parsing errors as ours (webargs' 422 is our 400)."""
    status = exc.code or 500
    if isinstance(exc, WerkzeugMethodNotAllowed):
        return MethodNotAllowed(sorted(exc.valid_methods or ()))
    data = getattr(exc, "data", None)
    if status == 422 or (status == 400 and data):
        return BadRequest("Invalid request", validation_errors(data or {}))
    if status == 400 and exc.description and "JSON" in exc.description:
        return BadRequest("Malformed JSON body")
    if status == 415:
        return BadRequest("Unsupported media type")
    error_class = _HTTP_ERRORS.get(status)
    return error_class() if error_class is not None else InternalError()


def handle_identity_error(exc: IdentityError) -> Response:
    if exc.status >= 500:
        log.warning(
            "request failed: %s", exc.message_id, extra={"fields": {"request_id": request_id()}}
        )
    return _render(exc)


def handle_http_exception(exc: HTTPException) -> Response:
    return _render(from_http_exception(exc))


def handle_validation_error(exc: ValidationError) -> Response:
    return _render(BadRequest("Invalid request", validation_errors(exc.messages)))


def database_unavailable(exc: Exception) -> IdentityError:
    """A lost database is a clean 503, never a 500 (and nothing half-written stays); a
    transaction that lost a race (deadlock, serialization failure) is a 409, not an outage."""
    from identity.models.base import db

    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection is already gone
        log.debug("rollback after database failure also failed")
    if is_transaction_conflict(exc):
        return Conflict("A concurrent change got in the way; try again")
    log.warning(
        "database unavailable: %s",
        type(exc).__name__,
        extra={"fields": {"request_id": request_id()}},
    )
    return ServiceUnavailable("The database is unavailable", retry_after=2)


def handle_database_down(exc: Exception) -> Response:
    return _render(database_unavailable(exc))


def value_refused(exc: Exception) -> BadRequest:
    """A value the database cannot hold (U+0000 in PostgreSQL text, ...) is the caller's 400."""
    db.session.rollback()
    log.info(
        "value refused by the database: %s",
        type(exc).__name__,  # never the statement or its parameters: they may hold secrets
        extra={"fields": {"request_id": request_id()}},
    )
    return BadRequest("A value in the request cannot be stored")


def handle_data_error(exc: Exception) -> Response:
    return _render(value_refused(exc))


def log_unexpected(exc: BaseException, path: str) -> None:
    """Log with the request id; the body never holds a traceback."""
    log.error(
        "unhandled exception",
        exc_info=exc,
        extra={"fields": {"request_id": request_id(), "path": path}},
    )


def handle_unexpected(exc: Exception) -> Response:
    log_unexpected(exc, request.path)
    return _render(InternalError())


def init_app(app: Flask) -> None:
    app.register_error_handler(IdentityError, handle_identity_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(ValidationError, handle_validation_error)
    app.register_error_handler(OperationalError, handle_database_down)
    app.register_error_handler(InterfaceError, handle_database_down)
    app.register_error_handler(DataError, handle_data_error)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        import psycopg  # only its deployments load the driver

        app.register_error_handler(psycopg.DataError, handle_data_error)  # escaped unwrapped
    app.register_error_handler(Exception, handle_unexpected)
