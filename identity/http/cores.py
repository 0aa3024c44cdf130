"""The one adapter between WSGI and the framework-free cores (``identity.core``).

The signing endpoints and the broker's read are written once, as cores, because Flask's
request machinery costs about 40 % of an RS256 signature. This WSGI app routes their paths to
them by their declarations (``identity.core.catalog``) and every other path to Flask. It
gives each answer what Flask's hooks give the others: an ``X-Request-Id``, the access-log line
and metrics, the shared error renderer, and a clean 503 when the database is gone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from http import HTTPStatus
from typing import Any

import psycopg
from flask import Flask
from sqlalchemy.exc import DataError, InterfaceError, OperationalError

from identity.core import errors as core_errors
from identity.core.http import Request, Response
from identity.core.routes import Endpoint, Router
from identity.errors import IdentityError, InternalError
from identity.extensions import services
from identity.http.errors import database_unavailable, log_unexpected, value_refused
from identity.observability import bind_request_id, new_request_id, record_request

log = logging.getLogger(__name__)
Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]


class EnvironHeaders(Mapping[str, str]):
    """Request headers read straight from the WSGI environ, names case-insensitive."""

    __slots__ = ("environ",)

    def __init__(self, environ: Environ) -> None:
        self.environ = environ

    @staticmethod
    def _key(name: str) -> str:
        key = name.upper().replace("-", "_")
        return key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"

    def __getitem__(self, name: str) -> str:
        return str(self.environ[self._key(name)])

    def get(self, name: str, default: Any = None) -> Any:
        return self.environ.get(self._key(name), default)

    def __iter__(self) -> Iterator[str]:
        for key in self.environ:
            if key.startswith("HTTP_"):
                yield key[5:].replace("_", "-").title()

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _remote(environ: Environ) -> str:
    return str(environ.get("REMOTE_ADDR") or "-")


def wsgi_path(environ: Environ) -> str:
    """PEP 3333 carries the path as latin-1 code points; we route on its UTF-8 text."""
    raw = str(environ.get("PATH_INFO", ""))
    return raw.encode("latin-1", "replace").decode("utf-8", "replace")


class CoreApp:
    """WSGI: core paths to their cores (``router``), everything else to ``fallback`` (Flask)."""

    def __init__(self, app: Flask, fallback: WsgiApp, router: Router) -> None:
        self.app = app
        self.fallback = fallback
        self.router = router
        self.admission = services(app).admission

    def __repr__(self) -> str:
        return "CoreApp()"

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        with self.admission.admitted():  # identity.admission: no convoy of runnable threads
            return self._dispatch(environ, start_response)

    def _dispatch(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = wsgi_path(environ)
        matched = self.router.match(path)
        if matched is None:
            return self.fallback(environ, start_response)
        endpoint, params = matched
        started = time.perf_counter()
        rid = new_request_id(str(environ.get("HTTP_X_REQUEST_ID", "")))
        method = str(environ.get("REQUEST_METHOD", "GET"))
        request_headers = EnvironHeaders(environ)
        with self.app.app_context():
            bind_request_id(rid)
            response = self._answer(endpoint, environ, method, path, request_headers, params)
        headers = response.headers
        if endpoint.headers is not None:
            headers = [*headers, *endpoint.headers(request_headers, method)]
        if response.content_type is not None:
            headers = [("Content-Type", response.content_type), *headers]
        headers += [("Content-Length", str(len(response.body))), ("X-Request-Id", rid)]
        start_response(f"{response.status} {HTTPStatus(response.status).phrase}", headers)
        elapsed = time.perf_counter() - started
        record_request(endpoint.rule, method, path, response.status, elapsed, rid)
        return [response.body]

    def _answer(
        self,
        endpoint: Endpoint,
        environ: Environ,
        method: str,
        path: str,
        headers: EnvironHeaders,
        params: dict[str, str],
    ) -> Response:
        try:
            body = self._read_body(environ)
            return endpoint.answer(Request(method, path, headers, body, _remote(environ), params))
        except IdentityError as exc:
            return core_errors.render(exc, endpoint.oauth)
        except (OperationalError, InterfaceError) as exc:
            return core_errors.render(database_unavailable(exc), endpoint.oauth)
        except (DataError, psycopg.DataError) as exc:
            return core_errors.render(value_refused(exc), endpoint.oauth)
        except Exception as exc:  # noqa: BLE001 - logged with its request id; never a traceback out
            log_unexpected(exc, path)
            return core_errors.render(InternalError(), endpoint.oauth)

    @staticmethod
    def _read_body(environ: Environ) -> bytes:
        """The whole body: ``identity.http.gate`` has bounded it and buffered a chunked one."""
        length = str(environ.get("CONTENT_LENGTH") or "")
        size = int(length) if length.isdigit() else 0
        return bytes(environ["wsgi.input"].read(size)) if size else b""
