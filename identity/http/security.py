"""``@require``: the one authentication layer of the Flask views (``identity.core.auth``).

    @require(access=["upstream:read"])                  a Bearer/OAuth access token with scope
    @require(api_key=["inbox:issue"])                   an API key (App scheme or X-API-Key)
    @require(access=["profile:read"], api_key=[...])    both

The principal is in ``g.access`` / ``g.api_key``; changes the view makes are audited as made
by ``client:<client_id>`` of the access token (``identity.services.audit``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import g, request

from identity.extensions import services
from identity.observability import request_id
from identity.services.audit import acting_as

F = TypeVar("F", bound=Callable[..., Any])


def require(
    access: Iterable[str] | None = None, api_key: Iterable[str] | None = None
) -> Callable[[F], F]:
    """Protect a view; ``access``/``api_key`` name the scopes each credential must carry."""
    access_scopes = tuple(access) if access is not None else None
    key_scopes = tuple(api_key) if api_key is not None else None

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            credentials = services().credentials
            if access_scopes is not None:
                g.access = credentials.access(request.headers, access_scopes)
            if key_scopes is not None:
                g.api_key = credentials.api_key(request.headers, key_scopes)
            if access_scopes is None:
                return view(*args, **kwargs)
            with acting_as(f"client:{g.access.get('client_id')}", request_id()):
                return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
