"""The request gate: the outermost WSGI middleware, refusing bodies over the limit with 413.

Before any route or core runs: a declared ``Content-Length`` over the limit is
refused unread; a streamed body (``Transfer-Encoding: chunked``, or a server that terminates
the input itself) is read up to limit + 1 bytes, refused if longer, else handed on as a
buffered body with its ``Content-Length``. So no route acts on a truncated body, and routes
that never read their body (``/customer_logout``) still refuse an oversized one.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response
from werkzeug.http import parse_set_header

from identity.core.errors import render
from identity.errors import PayloadTooLarge
from identity.http.errors import to_flask
from identity.observability import new_request_id, record_request

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def too_large_response(oauth: bool, limit: int) -> Response:
    """413 in the shape of the path: RFC 6749 §5.2 on OAuth endpoints, Infobip's elsewhere."""
    error = PayloadTooLarge(f"Request body too large (limit {limit} bytes)")
    return to_flask(render(error, oauth))


def _declared_length(environ: dict[str, Any]) -> int | None:
    """``Content-Length`` when it governs the body (RFC 9112 §6.3: chunked overrides it)."""
    if "chunked" in parse_set_header(environ.get("HTTP_TRANSFER_ENCODING")):
        return None
    declared = environ.get("CONTENT_LENGTH")
    if not declared:
        return None
    try:
        return max(0, int(declared))
    except ValueError:
        return 0  # as werkzeug reads it: no body


def _streamed(environ: dict[str, Any]) -> bool:
    chunked = "chunked" in parse_set_header(environ.get("HTTP_TRANSFER_ENCODING"))
    return chunked or bool(environ.get("wsgi.input_terminated"))


class BodyGate:
    """WSGI middleware; ``app`` is the Flask app (for rendering), ``wsgi_app`` what it wraps."""

    def __init__(
        self, app: Flask, wsgi_app: WSGIApp, limit: int, oauth_paths: frozenset[str]
    ) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.limit = limit
        self.oauth_paths = oauth_paths

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        declared = _declared_length(environ)
        if declared is not None and declared > self.limit:
            return self._refuse(environ, start_response)
        if declared is None and _streamed(environ):
            body = environ["wsgi.input"].read(self.limit + 1)
            if len(body) > self.limit:
                return self._refuse(environ, start_response)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            environ.pop("HTTP_TRANSFER_ENCODING", None)
            environ.pop("wsgi.input_terminated", None)
        return self.wsgi_app(environ, start_response)

    def _refuse(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        started = time.perf_counter()
        rid = new_request_id(environ.get("HTTP_X_REQUEST_ID", ""))
        path = environ.get("PATH_INFO", "")
        with self.app.app_context():
            response = too_large_response(path in self.oauth_paths, self.limit)
        response.headers["X-Request-Id"] = rid
        response.headers["Connection"] = "close"  # the unread body must not become a request
        elapsed = time.perf_counter() - started
        record_request("gate", environ.get("REQUEST_METHOD", ""), path, 413, elapsed, rid)
        return response(environ, start_response)
