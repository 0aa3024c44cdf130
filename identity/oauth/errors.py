"""RFC 6749 §5.2 errors with the exact status and headers we answer them with."""

from __future__ import annotations

from authlib.oauth2.rfc6749 import InvalidClientError, UnsupportedGrantTypeError

REALM = "identity"


class InvalidClient(InvalidClientError):
    """``invalid_client``: always 401 with a Basic challenge (RFC 6749 §5.2, RFC 7617 §2)."""

    status_code = 401

    def __init__(self, description: str, basic: bool = False) -> None:
        super().__init__(description=description, status_code=401)
        self.basic = basic

    def get_headers(self) -> list[tuple[str, str]]:
        inherited = super().get_headers()  # type: ignore[no-untyped-call]  # untyped in the stub
        headers = [(k, v) for k, v in inherited if k != "WWW-Authenticate"]
        challenge = f'Basic realm="{REALM}"'
        if self.basic:  # the client tried Basic: tell it why (RFC 6750 §3 style parameters)
            challenge += ', error="invalid_client"'
        headers.append(("WWW-Authenticate", challenge))
        return headers


class UnsupportedGrantType(UnsupportedGrantTypeError):
    """``unsupported_grant_type``; the description never echoes the caller's value."""

    description = "Only grant_type=client_credentials is supported"

    def __init__(self) -> None:
        super().__init__(None)

    def get_error_description(self) -> str:
        return str(self.description)
