"""The one adapter between WSGI and the framework-free cores (``identity.core``).

The signing endpoints and the broker's read are written once, as cores, because Flask's
request machinery costs about 40 % of an RS256 signature. This WSGI app routes their paths to
them and every other path to Flask. It gives each answer what Flask's hooks give the others:
an ``X-Request-Id``, the access-log line and metrics, the shared error renderer, and a clean
503 when the database is gone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import psycopg
from flask import Flask
from sqlalchemy.exc import DataError, InterfaceError, OperationalError

from identity.core import errors as core_errors
from identity.core.broker import AuthorizationEndpoint
from identity.core.discovery import DiscoveryEndpoints
from identity.core.http import Headers, Request, Response
from identity.core.identifiers import is_identifier
from identity.core.inbox import InboxEndpoints
from identity.core.oauth import OAuthEndpoints
from identity.errors import IdentityError, InternalError
from identity.extensions import services
from identity.http.errors import database_unavailable, log_unexpected, value_refused
from identity.observability import bind_request_id, new_request_id, record_request

log = logging.getLogger(__name__)
Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]
BROKER_PREFIX, BROKER_SUFFIX = "/upstream/connections/", "/authorization"
BROKER_RULE = "/upstream/connections/<name>/authorization"


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


@dataclass(frozen=True)
class Route:
    rule: str  # the metrics label, as Flask's url_rule would be
    handle: Callable[[Request], Response]
    oauth: bool
    extra_headers: Callable[[Headers, str], list[tuple[str, str]]] | None = None


def wsgi_path(environ: Environ) -> str:
    """PEP 3333 carries the path as latin-1 code points; we route on its UTF-8 text."""
    raw = str(environ.get("PATH_INFO", ""))
    return raw.encode("latin-1", "replace").decode("utf-8", "replace")


class CoreApp:
    """WSGI: core paths to their cores, everything else to ``fallback`` (the Flask app)."""

    def __init__(self, app: Flask, fallback: WsgiApp) -> None:
        built = services(app)
        settings = built.settings
        oauth = OAuthEndpoints(built.token_grant, built.token_management)
        discovery = DiscoveryEndpoints(built.keys, settings.jwks_max_age)
        inbox = InboxEndpoints(
            built.inbox, built.credentials, settings.allowed_origins, settings.cors_origins
        )
        self.broker = AuthorizationEndpoint(built.upstream, built.credentials)
        self.app = app
        self.fallback = fallback
        self.routes = {
            "/access_token": Route("/access_token", oauth.token, oauth=True),
            "/oauth/token": Route("/oauth/token", oauth.token, oauth=True),
            "/introspect": Route("/introspect", oauth.introspect, oauth=True),
            "/healthz": Route("/healthz", discovery.health, oauth=False),
            "/.well-known/jwks.json": Route("/.well-known/jwks.json", discovery.jwks, False),
            "/revoke": Route("/revoke", oauth.revoke, oauth=True),
            "/inbox/token": Route("/inbox/token", inbox.customer, False, inbox.response_headers),
            "/v1/inbox/tokens": Route(
                "/v1/inbox/tokens", inbox.partner, False, inbox.response_headers
            ),
        }

    def __repr__(self) -> str:
        return "CoreApp()"

    def _route(self, path: str) -> Route | None:
        route = self.routes.get(path)
        if route is not None or not path.startswith(BROKER_PREFIX):
            return route
        name = path[len(BROKER_PREFIX) : -len(BROKER_SUFFIX)]
        if not path.endswith(BROKER_SUFFIX) or not is_identifier(name):
            return None  # Flask answers 404, as for any path naming nothing
        return Route(BROKER_RULE, lambda request: self.broker.handle(request, name), False)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = wsgi_path(environ)
        route = self._route(path)
        if route is None:
            return self.fallback(environ, start_response)
        started = time.perf_counter()
        rid = new_request_id(str(environ.get("HTTP_X_REQUEST_ID", "")))
        method = str(environ.get("REQUEST_METHOD", "GET"))
        request_headers = EnvironHeaders(environ)
        with self.app.app_context():
            bind_request_id(rid)
            response = self._answer(route, environ, method, path, request_headers)
        headers = response.headers
        if route.extra_headers is not None:
            headers = [*headers, *route.extra_headers(request_headers, method)]
        if response.content_type is not None:
            headers = [("Content-Type", response.content_type), *headers]
        headers += [("Content-Length", str(len(response.body))), ("X-Request-Id", rid)]
        start_response(f"{response.status} {HTTPStatus(response.status).phrase}", headers)
        elapsed = time.perf_counter() - started
        record_request(route.rule, method, path, response.status, elapsed, rid)
        return [response.body]

    def _answer(
        self, route: Route, environ: Environ, method: str, path: str, headers: EnvironHeaders
    ) -> Response:
        try:
            body = self._read_body(environ)
            remote = str(environ.get("REMOTE_ADDR") or "-")
            return route.handle(Request(method, path, headers, body, remote))
        except IdentityError as exc:
            return core_errors.render(exc, route.oauth)
        except (OperationalError, InterfaceError) as exc:
            return core_errors.render(database_unavailable(exc), route.oauth)
        except (DataError, psycopg.DataError) as exc:
            return core_errors.render(value_refused(exc), route.oauth)
        except Exception as exc:  # noqa: BLE001 - logged with its request id; never a traceback out
            log_unexpected(exc, path)
            return core_errors.render(InternalError(), route.oauth)

    @staticmethod
    def _read_body(environ: Environ) -> bytes:
        """The whole body: ``identity.http.gate`` has bounded it and buffered a chunked one."""
        length = str(environ.get("CONTENT_LENGTH") or "")
        size = int(length) if length.isdigit() else 0
        return bytes(environ["wsgi.input"].read(size)) if size else b""
