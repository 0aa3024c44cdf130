"""Fetching a client's ``jwks_uri`` without becoming a server-side request forgery tool.

Only https, and only to public addresses: the host is resolved, every address it resolves to
is checked, and the connection goes to the address that was checked (so a second, different
DNS answer cannot redirect it). ``IDENTITY_ALLOW_INSECURE_JWKS_URI=true`` (development) lifts
both rules. Answers are small (64 KiB), quick (2 s) and cached; an unknown ``kid`` refetches
at most once a minute per URI and worker (docs/partners.md, "private_key_jwt").
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from identity.crypto.client_jwks import MAX_BYTES, InvalidJwks, PublicKey, parse_jwks

Resolver = Callable[[str, int], list[str]]
CACHE_SECONDS = 300.0
REFETCH_SECONDS = 60.0
TIMEOUT = httpx.Timeout(2.0)
TOTAL_SECONDS = 4.0  # the whole answer, however slowly it arrives


class UnsafeJwksUri(ValueError):
    """The URI may not be fetched; the message says why."""


class JwksUnavailable(Exception):
    """The set could not be fetched or was not a public JWK Set."""


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the system resolver)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the last 32 bits are an IPv4 address


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, compatible, 6to4, NAT64), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in NAT64 or (int(ip) >> 32 == 0 and int(ip) > 1):  # NAT64 or ::a.b.c.d (compatible)
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(address: str) -> bool:
    """False for loopback, private, link-local, site-local, multicast, reserved and unspecified
    addresses, and for IPv6 addresses that carry such an IPv4 address."""
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(
        address.split("%", 1)[0]
    )
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.is_site_local:
            return False
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            ip = embedded
    return ip.is_global and not ip.is_multicast


def check_uri(
    uri: str, allow_insecure: bool, resolver: Resolver = resolve, must_resolve: bool = True
) -> list[str]:
    """The addresses a fetch of ``uri`` may use; ``UnsafeJwksUri`` when there is none.

    At registration (``must_resolve=False``) a host that does not resolve yet is let through;
    the fetch checks again.
    """
    try:
        parts = urlsplit(uri)
        explicit_port = parts.port
    except ValueError:  # "Invalid IPv6 URL", a port out of range or not a number
        raise UnsafeJwksUri("jwks_uri is not a valid URL") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeJwksUri("jwks_uri must be an absolute https URL")
    if parts.scheme != "https" and not allow_insecure:
        raise UnsafeJwksUri(
            "jwks_uri must use https (http only with IDENTITY_ALLOW_INSECURE_JWKS_URI=true)"
        )
    if parts.username or parts.password or parts.fragment:
        raise UnsafeJwksUri("jwks_uri must not carry credentials or a fragment")
    host = parts.hostname
    try:
        literal: list[str] | None = [str(ipaddress.ip_address(host))]
    except ValueError:
        literal = None
    port = explicit_port or (443 if parts.scheme == "https" else 80)
    addresses = literal if literal is not None else resolver(host, port)
    if not addresses and not must_resolve:
        return []
    if not addresses:
        raise UnsafeJwksUri(f"jwks_uri host {host} does not resolve")
    blocked = [a for a in addresses if not is_public(a)]
    if blocked and not allow_insecure:
        raise UnsafeJwksUri(
            f"jwks_uri host {host} resolves to a loopback, private or link-local address "
            f"({blocked[0]}); allowed only with IDENTITY_ALLOW_INSECURE_JWKS_URI=true"
        )
    return addresses


@dataclass
class _Entry:
    keys: list[PublicKey]
    fetched_at: float
    refetched_at: float = float("-inf")  # the last fetch an unknown kid caused


class JwksFetcher:
    """Cached public keys of ``jwks_uri`` clients, for one worker."""

    def __init__(
        self,
        allow_insecure: bool,
        resolver: Resolver = resolve,
        transport: httpx.BaseTransport | None = None,
        waiting: Callable[[], AbstractContextManager[None]] = nullcontext,
    ) -> None:
        self._allow_insecure = allow_insecure
        self._waiting = waiting  # gives the worker's admission back (identity.admission)
        self._resolver = resolver
        self._transport = transport
        self._cache: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "JwksFetcher()"

    def keys(self, uri: str, kid: str | None) -> list[PublicKey]:
        """The set's keys; fetched again when stale, or when ``kid`` is unknown (once a minute)."""
        now = time.monotonic()
        entry = self._cache.get(uri)
        if entry is None:
            try:
                return self._store(uri, _Entry(self._fetch(uri), now))
            except JwksUnavailable:
                # Remember the failure: the next try comes after REFETCH_SECONDS, not per request.
                self._store(uri, _Entry([], now - CACHE_SECONDS + REFETCH_SECONDS, now))
                raise
        if now - entry.fetched_at >= CACHE_SECONDS:
            return self._refresh(uri, entry, now, entry.refetched_at)
        known = kid is None or any(k.kid == kid for k in entry.keys)
        if known or now - entry.refetched_at < REFETCH_SECONDS:
            return entry.keys
        return self._refresh(uri, entry, now, now)

    def _refresh(self, uri: str, entry: _Entry, now: float, refetched_at: float) -> list[PublicKey]:
        try:
            return self._store(uri, _Entry(self._fetch(uri), now, refetched_at))
        except JwksUnavailable:
            # Keep the last good set; try again after REFETCH_SECONDS, not on every request.
            entry.fetched_at = now - CACHE_SECONDS + REFETCH_SECONDS
            entry.refetched_at = now
            return entry.keys

    def _store(self, uri: str, entry: _Entry) -> list[PublicKey]:
        with self._lock:
            if len(self._cache) > 1000:
                self._cache.clear()
            self._cache[uri] = entry
        return entry.keys

    def _fetch(self, uri: str) -> list[PublicKey]:
        with self._waiting():  # DNS and HTTP: other requests run meanwhile
            return self._fetch_waiting(uri)

    def _fetch_waiting(self, uri: str) -> list[PublicKey]:
        try:
            address = check_uri(uri, self._allow_insecure, self._resolver)[0]
        except UnsafeJwksUri as exc:
            raise JwksUnavailable(str(exc)) from None
        parts = urlsplit(uri)
        host = parts.hostname or ""
        netloc = f"[{address}]" if ":" in address else address
        pinned = parts._replace(netloc=f"{netloc}:{parts.port}" if parts.port else netloc)
        headers = {"Host": parts.netloc.rpartition("@")[2], "Accept": "application/json"}
        try:
            with (
                httpx.Client(
                    timeout=TIMEOUT, follow_redirects=False, transport=self._transport
                ) as http,
                http.stream(
                    "GET",
                    pinned.geturl(),
                    headers=headers,
                    extensions={"sni_hostname": host},  # TLS checks the name, not the address
                ) as response,
            ):
                if response.status_code != 200:
                    raise JwksUnavailable(f"jwks_uri answered HTTP {response.status_code}")
                body = b""
                deadline = time.monotonic() + TOTAL_SECONDS  # a slow drip has an end too
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_BYTES:
                        raise JwksUnavailable("jwks_uri answer is too large")
                    if time.monotonic() > deadline:
                        raise JwksUnavailable("jwks_uri answered too slowly")
        except httpx.HTTPError as exc:
            raise JwksUnavailable(f"jwks_uri unreachable: {type(exc).__name__}") from None
        try:
            return parse_jwks(body)[1]
        except InvalidJwks as exc:
            raise JwksUnavailable(f"jwks_uri: {exc}") from None
