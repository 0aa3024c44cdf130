"""Browser callers: the customer token they present, cross-site checks and CORS (no Flask).

Cookie mode keeps the customer token in ``customer_session``. A request authenticated by that
cookie that changes state must also come from an allowed origin (``Origin``, else
``Referer``), so a cross-site page cannot ride the cookie.
"""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import urlsplit

from identity.core.auth import AuthenticationRequired, split_authorization
from identity.core.http import Headers
from identity.errors import Forbidden

COOKIE = "customer_session"


def request_origin(headers: Headers) -> str | None:
    origin = headers.get("Origin")
    if origin:
        return origin
    referer = urlsplit(headers.get("Referer") or "")
    return f"{referer.scheme}://{referer.netloc}" if referer.scheme and referer.netloc else None


def check_origin(headers: Headers, allowed: Collection[str], required: bool = True) -> None:
    """403 unless the request's origin is an allowed one (absent is fine when not required)."""
    origin = request_origin(headers)
    if origin is None and not required:
        return
    if origin not in allowed:
        raise Forbidden("Cross-site request refused")


def customer_token(
    headers: Headers, cookie: str | None, allowed: Collection[str]
) -> tuple[str, bool]:
    """``(token, from_cookie)``: Bearer first, else the cookie (then with the origin check)."""
    scheme, value = split_authorization(headers.get("Authorization") or "")
    if scheme == "bearer" and value:
        return value, False
    if cookie:
        check_origin(headers, allowed)
        return cookie, True
    raise AuthenticationRequired("Customer token required")


def customer_headers(
    headers: Headers, method: str, cors_origins: Collection[str]
) -> list[tuple[str, str]]:
    """No caching of tokens; CORS for the configured frontend origins (off when empty)."""
    out = [("Cache-Control", "no-store"), ("Pragma", "no-cache")]
    origin = headers.get("Origin")
    if origin and origin in cors_origins:
        out += [
            ("Access-Control-Allow-Origin", origin),
            ("Access-Control-Allow-Credentials", "true"),
            ("Vary", "Origin"),
        ]
        if method == "OPTIONS":
            out += [
                ("Access-Control-Allow-Methods", "POST"),
                ("Access-Control-Allow-Headers", "Authorization, Content-Type"),
                ("Access-Control-Max-Age", "600"),
            ]
    return out
