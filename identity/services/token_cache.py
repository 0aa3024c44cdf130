"""Per-process caches on the token verification hot path.

- ``VerifiedTokens``: claims of tokens whose signature and claims already verified, keyed by
  the exact token string; an entry is dropped at ``exp`` + leeway, so a cached token is never
  accepted longer than verification would accept it.
- ``RevocationCache``: a "not revoked" answer from the shared store is trusted for
  ``ttl`` seconds (``IDENTITY_REVOCATION_CHECK_SECONDS``); revocations made by this process
  apply at once. With ``ttl`` 0 every check asks the shared store.
  With a ``version`` probe (SQLite: ``RevocationStamp``), a "not revoked" answer stays exact
  until the probe reports a revocation anywhere, so even ``fresh`` checks are answered from
  memory until then (bounded by ``STAMP_TRUST_SECONDS`` should a stamp ever be missed).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from identity.cache import MISSING, TTLCache

STAMP_TRUST_SECONDS = 30.0


class VerifiedTokens:
    """``token -> (typ, claims)``; callers check the typ and audience they expect."""

    def __init__(self, leeway: int, max_entries: int = 10_000) -> None:
        self._leeway = leeway
        # Wall-clock deadlines: an entry lives until its token's exp (+ leeway), no longer.
        self._entries: TTLCache[str, tuple[str, dict[str, Any]]] = TTLCache(
            0, max_entries, clock=time.time
        )

    def get(self, token: str) -> tuple[str, dict[str, Any]] | None:
        entry = self._entries.get(token)
        return None if entry is MISSING else entry

    def put(self, token: str, typ: str, claims: dict[str, Any]) -> None:
        self._entries.put(token, (typ, claims), until=float(claims["exp"]) + self._leeway)


class RevocationCache:
    def __init__(
        self,
        lookup: Callable[[str], bool],
        ttl: float,
        max_entries: int = 50_000,
        version: Callable[[], object] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup = lookup
        self._ttl = ttl
        self._max = max_entries
        self._version = version
        # jti -> the probe's version when the store last said "not revoked", trusted for ttl
        # seconds (with a probe: while the version holds, at most STAMP_TRUST_SECONDS)
        self._checked: TTLCache[str, object] = TTLCache(ttl, max_entries, clock)
        self._clock = clock
        self._trust = STAMP_TRUST_SECONDS if version is not None else ttl
        self._revoked: set[str] = set()
        self._lock = threading.Lock()

    def is_revoked(self, jti: str, fresh: bool = False) -> bool:
        if jti in self._revoked:
            return True
        if self._version is None:
            version = None
            if not fresh and self._checked.get(jti) is not MISSING:
                return False
        else:
            # Read before asking the store: a revocation committed after this read changes
            # the version, so the answer below is never trusted past it.
            version = self._version()
            if self._checked.get(jti) == version:
                return False
        now = self._clock()  # the answer's age counts from before the store is asked
        revoked = self._lookup(jti)
        if revoked:
            self.mark_revoked(jti)
        elif self._trust > 0:
            self._checked.put(jti, version, until=now + self._trust)
        return revoked

    def mark_revoked(self, jti: str) -> None:
        self._checked.pop(jti)
        with self._lock:
            if len(self._revoked) < self._max:
                self._revoked.add(jti)
