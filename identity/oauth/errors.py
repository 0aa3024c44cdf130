"""RFC 6749 §5.2 errors, part of the one exception tree (``identity.errors``).

    IdentityError
    └── OAuthError                 400 ``error`` code + ``error_description`` on OAuth paths
        ├── InvalidRequest         invalid_request (RFC 6749 §5.2)
        ├── InvalidClient          invalid_client, always 401 + WWW-Authenticate
        ├── UnauthorizedClient     unauthorized_client
        ├── UnsupportedGrantType   unsupported_grant_type
        ├── InvalidScope           invalid_scope
        └── InvalidTarget          invalid_target (RFC 8707 §2)

On any other path an ``OAuthError`` renders like the ``IdentityError`` of its status.
Descriptions are fixed texts of ours: they never echo a caller's value (RFC 6749 §5.2 limits
``error_description`` to printable ASCII).
"""

from __future__ import annotations

from identity.errors import IdentityError

REALM = "identity"


class OAuthError(IdentityError):
    status = 400
    message_id = "BAD_REQUEST"
    error = "invalid_request"
    text = "Invalid request"


class InvalidRequest(OAuthError):
    pass


class InvalidClient(OAuthError):
    """``invalid_client``: always 401 with a Basic challenge (RFC 6749 §5.2, RFC 7617 §2)."""

    status = 401
    message_id = "UNAUTHORIZED"
    error = "invalid_client"
    text = "Client authentication failed"

    def __init__(self, text: str | None = None, basic: bool = False) -> None:
        super().__init__(text)
        self.basic = basic

    def headers(self) -> dict[str, str]:
        challenge = f'Basic realm="{REALM}"'
        if self.basic:  # the client tried Basic: tell it why (RFC 6750 §3 style parameters)
            challenge += ', error="invalid_client"'
        return {"WWW-Authenticate": challenge}


class UnauthorizedClient(OAuthError):
    error = "unauthorized_client"
    text = "The client may not use this grant type"


class UnsupportedGrantType(OAuthError):
    error = "unsupported_grant_type"
    text = "Only grant_type=client_credentials is supported"


class InvalidScope(OAuthError):
    error = "invalid_scope"
    text = "The requested scope is invalid or exceeds the client's scopes"


class InvalidTarget(OAuthError):
    """RFC 8707 §2: the resource is unknown, not granted, ambiguous or missing."""

    error = "invalid_target"
    text = "The requested resource is invalid or not granted"
