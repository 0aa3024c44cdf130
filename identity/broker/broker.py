"""The broker: two cache levels, refresh ahead, single flight, circuit breaker.

Read path (``authorization``):
1. in-process copy, fresh and re-checked within ``local_ttl`` → served (no I/O, no decryption);
2. a per-connection process lock; a reader that cannot take it serves its still-valid copy
   (except an IBSSO session being refreshed: that one is destroyed first, so it waits);
3. the shared level (Redis or the database; the header sealed with SecretBox);
4. the circuit breaker (shared ``failures``/``retry_at``): while it is open no upstream call is
   made, a still-valid token is served, else 502/503 with ``Retry-After``;
5. the distributed lease (fencing token); waiters poll the shared level for the holder's result;
6. one upstream call; its token goes to both levels (the shared write is fenced).
"""

from __future__ import annotations

import hmac
import logging
import math
import random
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import httpx

from identity.broker import upstream
from identity.broker.metrics import CACHE, REFRESH_AHEAD, TIME_TO_TOKEN
from identity.broker.model import BreakerState, BrokerPolicy, ConnectionSpec, StoredToken, Token
from identity.broker.ports import Clock, UpstreamStore
from identity.crypto.secretbox import SecretBox
from identity.errors import UpstreamUnauthorized, UpstreamUnavailable

log = logging.getLogger(__name__)
Loader = Callable[[], "ConnectionSpec | Token"]
UpstreamError = (UpstreamUnauthorized, UpstreamUnavailable)
LOCAL_HIT = CACHE.labels("local", "hit")
SHARED_HIT = CACHE.labels("shared", "hit")
SHARED_MISS = CACHE.labels("shared", "miss")
STALE = CACHE.labels("any", "stale_served")
POLL = 0.02  # seconds between a waiter's looks at the shared level


@dataclass(frozen=True)
class _Local:
    token: Token
    sealed: str | None  # the shared record this copy was opened from
    checked_until: float


class Broker:
    """Hands out upstream ``Authorization`` headers; one instance per app."""

    def __init__(
        self,
        policy: BrokerPolicy,
        store: UpstreamStore,
        box: SecretBox,
        clock: Clock = time.time,
        client: httpx.Client | None = None,
        rng: random.Random | None = None,
        waiting: Callable[[], AbstractContextManager[None]] = nullcontext,
    ) -> None:
        self.policy = policy
        self.waiting = waiting  # gives the worker's admission back (identity.admission)
        self.store = store
        self.clock = clock
        self._box = box
        self._client = client
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
        self._local: dict[str, _Local] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._backoff_until: dict[str, float] = {}
        self._kinds: dict[str, str] = {}  # last failure kind, for stores that do not keep it
        self._guard = threading.Lock()

    def __repr__(self) -> str:
        return f"Broker(store={self.store.backend!r}, cached={len(self._local)})"

    @property
    def client(self) -> httpx.Client:
        """One pooled httpx client per app (connection reuse), created on first use."""
        with self._guard:
            if self._client is None:
                limits = httpx.Limits(max_connections=32, max_keepalive_connections=8)
                self._client = httpx.Client(limits=limits, follow_redirects=False)
            return self._client

    def close(self) -> None:
        with self._guard:
            if self._client is not None:
                self._client.close()
                self._client = None

    # --- reading ----------------------------------------------------------------------------
    def peek(self, name: str) -> Token | None:
        """The in-process copy when it may be served as is (the fast path: no I/O at all)."""
        now = self.clock()
        entry = self._local.get(name)
        if entry is not None and now < entry.checked_until and entry.token.fresh(now):
            LOCAL_HIT.inc()
            return entry.token
        return None

    def authorization(self, name: str, load: Loader) -> Token:
        """A usable token for connection ``name``; ``load`` is called only on a miss."""
        token = self.peek(name)
        if token is not None:
            return token
        return self._slow(name, load, self._local.get(name), self.clock())

    def invalidate(self, name: str, header: str | None = None) -> bool:
        """The caller saw a 401 upstream: never serve this token again; the next read fetches.

        With ``header`` (the ``Authorization`` value that failed), only that token is dropped:
        many callers reporting the same failure cause one refresh, and a report about an older
        token does not throw away the newer one. Returns whether a token was dropped.
        """
        if header is not None and not self._is_current(name, header):
            return False
        with self._guard:
            self._local.pop(name, None)
            self._backoff_until.pop(name, None)
        self.store.invalidate(name)
        return True

    def _is_current(self, name: str, header: str) -> bool:
        stored = self.store.load(name)
        if stored is not None:
            if stored.invalid:
                return False  # already dropped by an earlier report
            current = self._box.open(stored.sealed)
        else:
            entry = self._local.get(name)
            current = entry.token.header if entry is not None else ""
        return hmac.compare_digest(current.encode(), header.encode())

    def forget(self, name: str) -> None:
        """The connection was removed or changed: drop both levels."""
        with self._guard:
            self._local.pop(name, None)
            self._backoff_until.pop(name, None)
        self.store.forget(name)

    def _lock_for(self, name: str) -> threading.Lock:
        lock = self._locks.get(name)
        if lock is None:
            with self._guard:
                lock = self._locks.setdefault(name, threading.Lock())
        return lock

    def _slow(self, name: str, load: Loader, entry: _Local | None, now: float) -> Token:
        """Lock waits and upstream calls: other requests run meanwhile."""
        with self.waiting():
            return self._slow_waiting(name, load, entry, now)

    def _slow_waiting(self, name: str, load: Loader, entry: _Local | None, now: float) -> Token:
        stale = self._servable_stale(name, entry, now)
        lock = self._lock_for(name)
        if not lock.acquire(blocking=False):
            if stale is not None:
                STALE.inc()
                return stale
            if not lock.acquire(timeout=self.policy.lock_timeout):
                raise UpstreamUnavailable("Timed out waiting for the upstream token", retry_after=1)
        try:
            return self._resolve(name, load)
        finally:
            lock.release()

    def _servable_stale(self, name: str, entry: _Local | None, now: float) -> Token | None:
        """A copy another reader may serve while one refresh runs (serve-stale-while-refresh)."""
        if entry is None or not entry.token.usable(now):
            return None
        if entry.token.fresh(now) or now < self._backoff_until.get(name, 0.0):
            return entry.token
        # An IBSSO refresh destroys the old session first: its readers wait for the new one.
        return None if entry.token.is_session else entry.token

    def _resolve(self, name: str, load: Loader) -> Token:
        now = self.clock()
        entry = self._local.get(name)
        if entry is not None and now < entry.checked_until and entry.token.fresh(now):
            return entry.token  # another thread of this process just did the work
        if entry is not None and now < self._backoff_until.get(name, 0.0):
            if entry.token.usable(now):
                STALE.inc()
                return entry.token
        stored = self.store.load(name)
        if stored is not None and stored.fresh(now):
            SHARED_HIT.inc()
            return self._adopt(name, stored, entry, now)
        spec = load()
        if isinstance(spec, Token):  # api_key, basic, exchange: no upstream call
            self._remember(name, _Local(spec, None, spec.refresh_at))
            return spec
        SHARED_MISS.inc()
        started = time.perf_counter()
        try:
            return self._refresh(spec, stored, entry, now)
        finally:
            TIME_TO_TOKEN.labels(name).observe(time.perf_counter() - started)

    def _adopt(self, name: str, stored: StoredToken, entry: _Local | None, now: float) -> Token:
        """Take the shared record into this process (decrypting only when it changed)."""
        if entry is not None and entry.sealed == stored.sealed:
            token = entry.token
        else:
            token = self._open(stored)
        self._remember(name, _Local(token, stored.sealed, now + self.policy.local_ttl))
        return token

    def _open(self, stored: StoredToken) -> Token:
        token_type, _, value = self._box.open(stored.sealed).partition(" ")
        return Token(token_type, value, stored.obtained_at, stored.expires_at, stored.refresh_at)

    def _remember(self, name: str, entry: _Local) -> None:
        with self._guard:
            self._local[name] = entry
            self._backoff_until.pop(name, None)

    # --- refreshing ---------------------------------------------------------------------------
    def _fallback(
        self, stored: StoredToken | None, entry: _Local | None, now: float
    ) -> Token | None:
        """The still-valid token to serve if the upstream fails (never an invalidated one)."""
        if stored is not None:
            if not stored.usable(now):
                return None
            return self._open(stored)
        if entry is not None and entry.sealed is not None and entry.token.usable(now):
            return entry.token
        return None

    def _refresh(
        self, spec: ConnectionSpec, stored: StoredToken | None, entry: _Local | None, now: float
    ) -> Token:
        state = self.store.breaker(spec.name)
        if state.retry_at is not None and now < state.retry_at:
            return self._degraded(spec.name, self._fallback(stored, entry, now), state, now)
        acquired = self._acquire(spec, entry, self._fallback(stored, entry, now))
        if isinstance(acquired, Token):
            return acquired
        try:
            return self._refresh_locked(spec, entry, acquired)
        finally:
            self.store.release(spec.name, acquired)

    def _lease_ttl(self, spec: ConnectionSpec) -> float:
        """Long enough for a logout plus a login at the connection's timeouts."""
        connect = spec.connect_timeout or self.policy.connect_timeout
        read = spec.read_timeout or self.policy.read_timeout
        return 2 * (connect + read) + 5

    def _acquire(
        self, spec: ConnectionSpec, entry: _Local | None, fallback: Token | None
    ) -> int | Token:
        """The lease's fencing token, or the token another holder produced meanwhile."""
        name, ttl = spec.name, self._lease_ttl(spec)
        deadline = time.monotonic() + self.policy.lock_timeout
        while True:
            now = self.clock()
            fence = self.store.try_acquire(name, ttl, now)
            if fence is not None:
                return fence
            if fallback is not None and not fallback.is_session:
                STALE.inc()  # another instance is refreshing; the old token still works
                return fallback
            stored = self.store.load(name)
            if stored is not None and stored.fresh(now):
                SHARED_HIT.inc()
                return self._adopt(name, stored, entry, now)
            if time.monotonic() > deadline:
                raise UpstreamUnavailable("Timed out waiting for the upstream token", retry_after=1)
            time.sleep(POLL)

    def _refresh_locked(self, spec: ConnectionSpec, entry: _Local | None, fence: int) -> Token:
        now = self.clock()
        stored = self.store.load(spec.name)
        if stored is not None and stored.fresh(now):
            SHARED_HIT.inc()
            return self._adopt(spec.name, stored, entry, now)
        state = self.store.breaker(spec.name)
        fallback = self._fallback(stored, entry, now)
        if state.retry_at is not None and now < state.retry_at:
            return self._degraded(spec.name, fallback, state, now)
        destroyed = False
        try:
            if spec.method == "ibsso":
                destroyed = self._destroy_live_session(spec, stored, entry, now)
            fetched = self._call(spec)
        except UpstreamError as exc:
            # Back off from when the failure is known, not from when the call began: a call
            # that times out after the backoff would otherwise leave no backoff at all.
            known = self.clock()
            return self._failed(spec.name, exc, None if destroyed else fallback, state, known)
        token = self._store(spec.name, fetched, fence, now)
        if state.failures:
            self.store.clear_failures(spec.name)
        if stored is not None and not stored.invalid and stored.usable(now):
            REFRESH_AHEAD.labels(spec.name).inc()
        return token

    def _call(self, spec: ConnectionSpec) -> upstream.Fetched:
        if spec.method == "ibsso":
            return upstream.ibsso_login(self.client, spec, self.policy)
        return upstream.oauth2_token(self.client, spec, self.policy)

    def _destroy_live_session(
        self, spec: ConnectionSpec, stored: StoredToken | None, entry: _Local | None, now: float
    ) -> bool:
        """IBSSO: a still-valid session must be destroyed before a new one is created."""
        live: Token | None = None
        if stored is not None and now < stored.expires_at:
            live = self._open(stored)
        elif entry is not None and entry.token.expires_at and now < entry.token.expires_at:
            live = entry.token
        if live is None or not live.is_session:
            return False
        upstream.ibsso_destroy(self.client, spec, self.policy, live.value)
        with self._guard:
            self._local.pop(spec.name, None)
        self.store.invalidate(spec.name)  # other instances must not serve it any more
        return True

    def _store(self, name: str, fetched: upstream.Fetched, fence: int, now: float) -> Token:
        lifetime = self.policy.lifetime(fetched.lifetime)
        refresh_at = self.policy.refresh_at(now, lifetime, self._rng)
        token = Token(fetched.token_type, fetched.value, now, now + lifetime, refresh_at)
        record = StoredToken(self._box.seal(token.header), now, now + lifetime, refresh_at)
        if not self.store.save(name, record, fence, now):
            log.warning("upstream %s: lease lost before the token was stored", name)
        self._remember(name, _Local(token, record.sealed, now + self.policy.local_ttl))
        return token

    # --- failing --------------------------------------------------------------------------------
    def _failed(
        self,
        name: str,
        exc: UpstreamUnauthorized | UpstreamUnavailable,
        fallback: Token | None,
        previous: BreakerState,
        now: float,
    ) -> Token:
        """Open the breaker for an exponentially growing time; serve the fallback or raise."""
        failures = previous.failures + 1
        kind = "unauthorized" if isinstance(exc, UpstreamUnauthorized) else "unavailable"
        delay = self.policy.backoff(failures)
        if isinstance(exc, upstream.UpstreamThrottled):  # RFC 6585 §4: not before Retry-After
            delay = max(delay, min(exc.wait, float(self.policy.max_retry_after)))
        state = BreakerState(failures, now + delay, kind)
        self.store.record_failure(name, state)
        self._kinds[name] = kind
        log.warning("upstream %s failed (%s), attempt %d; backing off", name, kind, failures)
        return self._degraded(name, fallback, state, now)

    def _degraded(
        self, name: str, fallback: Token | None, state: BreakerState, now: float
    ) -> Token:
        retry_at = state.retry_at or now
        if fallback is not None:
            STALE.inc()
            with self._guard:
                entry = self._local.get(name)
                if entry is None or entry.token.value != fallback.value:
                    self._local[name] = _Local(fallback, None, now)
                self._backoff_until[name] = retry_at
            return fallback
        if (state.kind or self._kinds.get(name)) == "unauthorized":
            raise UpstreamUnauthorized()
        # Whole seconds, rounded up (RFC 9110 §10.2.3); the database keeps ``retry_at`` to the
        # microsecond, so a few microseconds of float noise must not add a second.
        raise UpstreamUnavailable(retry_after=max(1, math.ceil(retry_at - now - 0.001)))
