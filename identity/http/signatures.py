"""Decorators for endpoints that Infobip Exchange and channel adapters call.

    @exchange_signed        X-Ib-Exchange-Req-Signature over timestamp + raw body (exchange.md);
                            the account key is in ``g.exchange_account_key``
    @hub_signed()           X-Hub-Signature: sha1=<hex> over the raw body
    @hub_signed(allow_access_token=True)   ...or ?access_token=<IDENTITY_ADAPTER_ACCESS_TOKEN>

Signatures are checked over the raw request bytes, before any JSON parsing, and a verified
signature is remembered in shared state (Redis or the database) so that a replay is refused on
every instance until it could no longer pass the timestamp window. Every failure is 401.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import g, request

from identity.crypto import webhooks
from identity.errors import Unauthorized
from identity.extensions import services

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)

TIMESTAMP_HEADER = "X-Ib-Exchange-Req-Timestamp"
ACCOUNT_HEADER = "X-Ib-Exchange-Req-AccountKey"
SIGNATURE_HEADER = "X-Ib-Exchange-Req-Signature"
HUB_HEADER = "X-Hub-Signature"  # exactly this name; WSGI itself does not keep header case


def _refuse(reason: Unauthorized) -> Unauthorized:
    log.warning("signed request refused: %s", reason.text, extra={"fields": {"path": request.path}})
    return reason


def _remember(namespace: str, signature: str, ttl: int) -> None:
    """Single use: a second request with the same signature is a replay."""
    if not services().shared.add_once(namespace, signature, ttl):
        raise _refuse(Unauthorized("Replayed request"))


def verify_exchange_request() -> str:
    """Verify the current request as Exchange-signed; return its account key."""
    settings = services().settings
    headers = request.headers
    account_key = headers.get(ACCOUNT_HEADER, "").strip()
    try:
        signature = webhooks.verify_exchange(
            settings.exchange_signing_secret,
            headers.get(TIMESTAMP_HEADER),
            headers.get(SIGNATURE_HEADER),
            request.get_data(cache=True),
            int(time.time() * 1000),
            settings.signature_window,
        )
        if not account_key or len(account_key) > 64:
            raise Unauthorized("Missing or malformed account key")
    except Unauthorized as exc:
        raise _refuse(exc) from None
    # A timestamp may be up to one window ahead, so the signature can pass for two windows.
    _remember("exchange-signature", signature, 2 * settings.signature_window)
    return account_key


def verify_hub_request(allow_access_token: bool) -> str:
    """Verify the current request by X-Hub-Signature (or access token); return the mode used."""
    settings = services().settings
    presented = request.args.get("access_token")
    if allow_access_token and settings.adapter_access_token and presented is not None:
        if not webhooks.token_matches(settings.adapter_access_token, presented):
            raise _refuse(Unauthorized("Invalid access token"))
        return "access_token"
    try:
        digest = webhooks.verify_hub(
            settings.hub_app_secret, request.headers.get(HUB_HEADER), request.get_data(cache=True)
        )
    except Unauthorized as exc:
        raise _refuse(exc) from None
    _remember("hub-signature", digest, settings.signature_window)
    return "signature"


def exchange_signed(view: F) -> F:
    """Accept the request only when Exchange signed it; ``g.exchange_account_key`` is set."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.exchange_account_key = verify_exchange_request()
        return view(*args, **kwargs)

    wrapper.signature_first = True  # type: ignore[attr-defined]  # see identity.http.strict
    return wrapper  # type: ignore[return-value]


def hub_signed(allow_access_token: bool = False) -> Callable[[F], F]:
    """Accept X-Hub-Signature requests (and ``?access_token=`` ones when allowed)."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            g.inbound_auth = verify_hub_request(allow_access_token)
            return view(*args, **kwargs)

        wrapper.signature_first = True  # type: ignore[attr-defined]  # see identity.http.strict
        return wrapper  # type: ignore[return-value]

    return decorate
