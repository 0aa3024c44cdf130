"""The one error renderer: Infobip's shape everywhere, RFC 6749 §5.2 on the OAuth endpoints.

The cores and the Flask app (``identity.http.errors``) both render through ``render``; the
Flask side first turns framework exceptions (routing, schema validation) into ours.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2 import OAuth2Error

from identity.core.http import NO_STORE, Response, authlib_headers, json_response
from identity.errors import IdentityError

# docs/limits.md: these answer errors in the RFC 6749 §5.2 shape.
OAUTH_PATHS = frozenset({"/access_token", "/oauth/token", "/introspect", "/revoke"})


def infobip_body(exc: IdentityError) -> dict[str, Any]:
    fault = {"messageId": exc.message_id, "text": exc.text, **exc.extra()}
    return {"requestError": {"serviceException": fault}}


def _oauth_error_code(exc: IdentityError) -> str:
    if exc.status >= 500:
        return "temporarily_unavailable" if exc.status == 503 else "server_error"
    return "invalid_client" if exc.status == 401 else "invalid_request"


def render_oauth(exc: OAuth2Error) -> Response:
    """RFC 6749 §5.2 body; never cached (§5.1); the error's own headers (WWW-Authenticate)."""
    headers = authlib_headers(exc.get_headers())
    body = {
        "error": exc.error or "invalid_request",
        "error_description": exc.description or exc.error or "",
    }
    return json_response(exc.status_code or 400, body, [*headers, *NO_STORE])


def render(exc: IdentityError | OAuth2Error, oauth: bool) -> Response:
    """The response for ``exc``; ``oauth``: the request was for one of ``OAUTH_PATHS``."""
    if isinstance(exc, OAuth2Error):
        return render_oauth(exc)
    headers = list(exc.headers().items())
    if oauth:
        body = {"error": _oauth_error_code(exc), "error_description": exc.text}
        return json_response(exc.status, body, [*headers, *NO_STORE])
    return json_response(exc.status, infobip_body(exc), headers)
