"""One authentication layer for protected endpoints.

    @require(access=["upstream:read"])                  a Bearer/OAuth access token with scope
    @require(api_key=["inbox:issue"])                   an API key (App scheme or X-API-Key)
    @require(access=["profile:read"], api_key=[...])    both

Access tokens are verified with RFC 8725 discipline (see ``crypto.verify``) and checked against
the revocation list. 401 carries ``WWW-Authenticate`` (RFC 6750 §3); missing scope is 403
(RFC 6750 §3.1 ``insufficient_scope``). The principal is in ``g.access`` / ``g.api_key``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import g, request

from identity.errors import Forbidden, Unauthorized
from identity.extensions import get_service

F = TypeVar("F", bound=Callable[..., Any])
ACCESS_SCHEMES = ("bearer", "oauth")  # contract §4: "OAuth" is a synonym some platforms send


class AuthenticationRequired(Unauthorized):
    def __init__(self, text: str, scheme: str = "Bearer", error: str | None = None) -> None:
        super().__init__(text)
        self._challenge = f'{scheme} realm="identity"' + (f', error="{error}"' if error else "")

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": self._challenge}


def split_authorization(header: str) -> tuple[str, str]:
    """``(scheme in lower case, credentials)`` of an ``Authorization`` header value."""
    scheme, _, value = header.partition(" ")
    return scheme.lower(), value.strip()


def bearer_from(authorization: str) -> str | None:
    """The access token from ``Bearer|OAuth <token>``, if any."""
    scheme, value = split_authorization(authorization)
    return value if scheme in ACCESS_SCHEMES and value else None


def api_key_from(authorization: str, x_api_key: str | None) -> str | None:
    """``App <key>`` first, else the ``X-API-Key`` header."""
    scheme, value = split_authorization(authorization)
    if scheme == "app" and value:
        return value
    return x_api_key or None


def bearer_token() -> str | None:
    return bearer_from(request.headers.get("Authorization", ""))


def presented_api_key() -> str | None:
    return api_key_from(request.headers.get("Authorization", ""), request.headers.get("X-API-Key"))


def authenticate_access(scopes: Iterable[str]) -> dict[str, Any]:
    return check_access_token(bearer_token(), scopes)


def authenticate_api_key(scopes: Iterable[str]) -> Any:
    return check_api_key(presented_api_key(), scopes)


def check_access_token(token: str | None, scopes: Iterable[str]) -> dict[str, Any]:
    """Claims of a valid access token carrying ``scopes``; 401/403 otherwise (no Flask)."""
    if token is None:
        raise AuthenticationRequired("Access token required")
    try:
        claims: dict[str, Any] = get_service("tokens").verify_access_token(token)
    except Unauthorized:
        raise AuthenticationRequired("Invalid or expired token", error="invalid_token") from None
    granted = set(str(claims.get("scope", "")).split())
    if not set(scopes) <= granted:
        raise Forbidden("The access token lacks a required scope")
    return claims


def check_api_key(key: str | None, scopes: Iterable[str]) -> Any:
    """The principal of a valid API key carrying ``scopes``; 401/403 otherwise (no Flask)."""
    if key is None:
        raise AuthenticationRequired("API key required", scheme="App")
    try:
        principal = get_service("api_keys").authenticate(key)
    except Unauthorized as exc:
        raise AuthenticationRequired(exc.text, scheme="App") from None
    if not set(scopes) <= principal.scopes:
        raise Forbidden("The API key lacks a required scope")
    return principal


def require(
    access: Iterable[str] | None = None, api_key: Iterable[str] | None = None
) -> Callable[[F], F]:
    """Protect a view; ``access``/``api_key`` name the scopes each credential must carry."""
    access_scopes = tuple(access) if access is not None else None
    key_scopes = tuple(api_key) if api_key is not None else None

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if access_scopes is not None:
                g.access = authenticate_access(access_scopes)
            if key_scopes is not None:
                g.api_key = authenticate_api_key(key_scopes)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
