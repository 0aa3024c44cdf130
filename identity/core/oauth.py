"""The OAuth endpoints (docs/partners.md): ``/access_token`` (alias ``/oauth/token``),
``/introspect`` (RFC 7662) and ``/revoke`` (RFC 7009).

Bodies are form-encoded (RFC 6749 §4.4.2) or JSON (docs/limits.md); a repeated parameter is
``invalid_request`` (RFC 6749 §3.2) and an empty one counts as absent. Client authentication,
the grant and the endpoints' logic are Authlib's ``AuthorizationServer`` with our hooks
(``identity.oauth.server``); errors are rendered in the RFC 6749 §5.2 shape.
"""

from __future__ import annotations

from typing import Any

from identity.core.bodies import body_pairs, single_params
from identity.core.http import (
    NO_STORE,
    Request,
    Response,
    authlib_headers,
    by_method,
    json_response,
)
from identity.oauth.requests import OAuthCall
from identity.oauth.server import Server


def _call(request: Request) -> OAuthCall:
    """The request as Authlib sees it, with each parameter at most once."""
    params = single_params(body_pairs(request.mimetype, request.body))
    # Authlib and our client authentication read one header: Authorization (RFC 6749 §2.3.1).
    headers = {"Authorization": request.headers.get("Authorization") or ""}
    return OAuthCall(request.method, request.path, headers, params)


def _respond(result: tuple[int, Any, list[tuple[str, str]]]) -> Response:
    """Authlib's ``(status, body, headers)``; never cached (RFC 6749 §5.1, RFC 7662 §2.2)."""
    status, body, headers = result
    return json_response(status, body, [*authlib_headers(headers), *NO_STORE])


class OAuthEndpoints:
    oauth = True  # errors in the RFC 6749 §5.2 shape

    def __init__(self, server: Server) -> None:
        self.server = server

    def __repr__(self) -> str:
        return "OAuthEndpoints()"

    def token(self, request: Request) -> Response:
        """Client credentials grant (RFC 6749 §4.4): an RFC 9068 JWT access token."""
        return by_method(
            request, {"POST": lambda r: _respond(self.server.create_token_response(_call(r)))}
        )

    def introspect(self, request: Request) -> Response:
        """RFC 7662 token introspection; the caller authenticates as a client."""
        return by_method(request, {"POST": lambda r: self._endpoint("introspection", r)})

    def revoke(self, request: Request) -> Response:
        """RFC 7009 revocation: 200 even for unknown tokens; every instance refuses it after."""
        return by_method(request, {"POST": lambda r: self._endpoint("revocation", r)})

    def _endpoint(self, name: str, request: Request) -> Response:
        result = self.server.create_endpoint_response(name, _call(request))  # type: ignore[no-untyped-call]
        return _respond(result)
