"""The calls the broker makes to Infobip, with httpx; foreign errors translated at this edge.

401/403 → ``UpstreamUnauthorized``; 5xx, timeouts, refused connections and malformed bodies →
``UpstreamUnavailable``. Bodies and headers are never put in a message: they may hold secrets.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from identity.broker.metrics import UPSTREAM_CALLS
from identity.broker.model import BrokerPolicy, ConnectionSpec
from identity.errors import UpstreamUnauthorized, UpstreamUnavailable

log = logging.getLogger(__name__)
SESSION = "/auth/1/session"
OAUTH2 = "/auth/1/oauth2/token"


class UpstreamThrottled(UpstreamUnavailable):
    """The upstream answered 429 (or 503) with ``Retry-After``: no call before ``wait`` s."""

    def __init__(self, wait: float) -> None:
        super().__init__("The upstream asked us to slow down", retry_after=math.ceil(wait))
        self.wait = wait


@dataclass(frozen=True)
class Fetched:
    token_type: str
    value: str
    lifetime: float


def _timeout(spec: ConnectionSpec, policy: BrokerPolicy) -> httpx.Timeout:
    connect = spec.connect_timeout or policy.connect_timeout
    read = spec.read_timeout or policy.read_timeout
    return httpx.Timeout(read, connect=connect, pool=connect)


def _send(
    client: httpx.Client, spec: ConnectionSpec, policy: BrokerPolicy, call: str, **kwargs: Any
) -> httpx.Response:
    """One request; transport failures become ``UpstreamUnavailable``."""
    method, path = call.split(" ", 1)
    try:
        response = client.request(
            method, spec.base_url + path, timeout=_timeout(spec, policy), **kwargs
        )
    except httpx.TimeoutException:
        _count(spec, call, "timeout")
        raise UpstreamUnavailable("The upstream did not answer in time") from None
    except httpx.HTTPError as exc:  # refused, reset, DNS, protocol errors
        _count(spec, call, "unreachable")
        log.warning("upstream %s unreachable: %s", spec.name, type(exc).__name__)
        raise UpstreamUnavailable("The upstream is unreachable") from None
    return response


def retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` as seconds from now (RFC 9110 §10.2.3: delay-seconds or an HTTP-date).

    An HTTP-date is measured against the response's own ``Date`` (same clock), else ours.
    """
    value = response.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
        sent = (
            parsedate_to_datetime(response.headers["Date"]) if "Date" in response.headers else None
        )
    except (TypeError, ValueError, IndexError, KeyError):
        return None
    if when.tzinfo is None or (sent is not None and sent.tzinfo is None):
        return None
    reference = sent.timestamp() if sent is not None else time.time()
    return max(0.0, when.timestamp() - reference)


def _check(response: httpx.Response, spec: ConnectionSpec, call: str) -> None:
    if response.status_code in (429, 503):  # RFC 6585 §4, RFC 9110 §15.6.4: obey Retry-After
        wait = retry_after_seconds(response)
        if wait is not None:
            _count(spec, call, f"http_{response.status_code}")
            raise UpstreamThrottled(wait)
    if response.status_code in (401, 403):
        _count(spec, call, "rejected")
        raise UpstreamUnauthorized()
    if response.status_code >= 300:
        _count(spec, call, f"http_{response.status_code // 100}xx")
        raise UpstreamUnavailable(f"The upstream answered {response.status_code}")


def _json(response: httpx.Response, spec: ConnectionSpec, call: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        _count(spec, call, "malformed")
        raise UpstreamUnavailable("The upstream answered with a malformed body")
    return body


def _count(spec: ConnectionSpec, call: str, outcome: str) -> None:
    UPSTREAM_CALLS.labels(spec.name, call, outcome).inc()


def ibsso_login(client: httpx.Client, spec: ConnectionSpec, policy: BrokerPolicy) -> Fetched:
    """Create an IBSSO session: ``POST /auth/1/session`` ``{"username", "password"}``."""
    call = f"POST {SESSION}"
    response = _send(
        client, spec, policy, call, json={"username": spec.username, "password": spec.secret}
    )
    _check(response, spec, call)
    token = _json(response, spec, call).get("token")
    if not isinstance(token, str) or not token:
        _count(spec, call, "malformed")
        raise UpstreamUnavailable("The upstream answered with a malformed body")
    _count(spec, call, "ok")
    return Fetched("IBSSO", token, float(spec.lifetime or policy.ibsso_lifetime))


def ibsso_destroy(
    client: httpx.Client, spec: ConnectionSpec, policy: BrokerPolicy, token: str
) -> None:
    """Destroy a session (``DELETE /auth/1/session``); a session already gone is fine.

    An upstream that is down raises ``UpstreamUnavailable``: the old session then still
    works, and the caller keeps serving it rather than logging in again.
    """
    call = f"DELETE {SESSION}"
    response = _send(client, spec, policy, call, headers={"Authorization": f"IBSSO {token}"})
    if response.status_code in (401, 403, 404):
        _count(spec, call, "gone")
        return
    _check(response, spec, call)
    if response.status_code != 204 and response.content:
        _json(response, spec, call)  # a 2xx we cannot read: whether it logged out is unknown
    _count(spec, call, "ok")


def _lifetime(value: Any, default: float) -> float:
    """``expires_in`` as a number or a numeric string; missing or bad → the default."""
    if isinstance(value, bool):
        return default
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return default
    return seconds if seconds > 0 else default


def oauth2_token(client: httpx.Client, spec: ConnectionSpec, policy: BrokerPolicy) -> Fetched:
    """RFC 6749 §4.4 client credentials at ``POST /auth/1/oauth2/token`` (form body)."""
    call = f"POST {OAUTH2}"
    form = {
        "client_id": spec.client_id or "",
        "client_secret": spec.secret,
        "grant_type": "client_credentials",
    }
    response = _send(client, spec, policy, call, data=form)
    if response.status_code == 400:  # RFC 6749 §5.2 invalid_client may come as 400
        body = _json(response, spec, call)
        if body.get("error") in ("invalid_client", "unauthorized_client", "invalid_grant"):
            _count(spec, call, "rejected")
            raise UpstreamUnauthorized()
    _check(response, spec, call)
    body = _json(response, spec, call)
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        _count(spec, call, "malformed")
        raise UpstreamUnavailable("The upstream answered with a malformed body")
    _count(spec, call, "ok")
    lifetime = _lifetime(body.get("expires_in"), float(spec.lifetime or policy.default_lifetime))
    if spec.lifetime:  # a configured lifetime may shorten, never lengthen, what upstream says
        lifetime = min(lifetime, float(spec.lifetime))
    return Fetched("Bearer", token, lifetime)
