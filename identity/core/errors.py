"""The one error renderer: Infobip's shape everywhere, RFC 6749 §5.2 on the OAuth endpoints.

The cores and the Flask app (``identity.http.errors``) both render through ``render``; the
Flask side first turns framework exceptions (routing, schema validation) into ours.
"""

from __future__ import annotations

from typing import Any

from identity.core.http import NO_STORE, Response, json_response
from identity.errors import IdentityError
from identity.oauth.errors import OAuthError


def infobip_body(exc: IdentityError) -> dict[str, Any]:
    fault = {"messageId": exc.message_id, "text": exc.text, **exc.extra()}
    return {"requestError": {"serviceException": fault}}


def _oauth_error_code(exc: IdentityError) -> str:
    if isinstance(exc, OAuthError):
        return exc.error
    if exc.status >= 500:
        return "temporarily_unavailable" if exc.status == 503 else "server_error"
    return "invalid_client" if exc.status == 401 else "invalid_request"


def render(exc: IdentityError, oauth: bool) -> Response:
    """The response for ``exc``; ``oauth``: the endpoint is declared an OAuth one."""
    headers = list(exc.headers().items())
    if oauth:  # RFC 6749 §5.2 body, never cached (§5.1)
        body = {"error": _oauth_error_code(exc), "error_description": exc.text}
        return json_response(exc.status, body, [*headers, *NO_STORE])
    return json_response(exc.status, infobip_body(exc), headers)
