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

STAMP_TRUST_SECONDS = 30.0


class VerifiedTokens:
    """``token -> (typ, claims)``; callers check the typ and audience they expect."""

    def __init__(self, leeway: int, max_entries: int = 10_000) -> None:
        self._leeway = leeway
        self._max = max_entries
        self._entries: dict[str, tuple[str, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def get(self, token: str) -> tuple[str, dict[str, Any]] | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        if time.time() > float(entry[1]["exp"]) + self._leeway:
            with self._lock:
                self._entries.pop(token, None)
            return None
        return entry

    def put(self, token: str, typ: str, claims: dict[str, Any]) -> None:
        with self._lock:
            if len(self._entries) >= self._max:
                self._entries.clear()  # bounded memory; refilled by the next verifications
            self._entries[token] = (typ, claims)


class RevocationCache:
    def __init__(
        self,
        lookup: Callable[[str], bool],
        ttl: float,
        max_entries: int = 50_000,
        version: Callable[[], object] | None = None,
    ) -> None:
        self._lookup = lookup
        self._ttl = ttl
        self._max = max_entries
        self._version = version
        # jti -> (when the store last said "not revoked", the probe's version at that moment)
        self._checked: dict[str, tuple[float, object]] = {}
        self._revoked: set[str] = set()
        self._lock = threading.Lock()

    def is_revoked(self, jti: str, fresh: bool = False) -> bool:
        if jti in self._revoked:
            return True
        now = time.monotonic()
        # Read before asking the store: a revocation committed after this read changes the
        # version, so the answer below is never trusted past it.
        version = self._version() if self._version is not None else None
        checked = self._checked.get(jti)
        if checked is not None:
            age = now - checked[0]
            if self._version is not None:
                if checked[1] == version and age < STAMP_TRUST_SECONDS:
                    return False
            elif not fresh and age < self._ttl:
                return False
        revoked = self._lookup(jti)
        with self._lock:
            if len(self._checked) >= self._max:
                self._checked.clear()
            if revoked:
                self._checked.pop(jti, None)
                if len(self._revoked) < self._max:
                    self._revoked.add(jti)
            elif self._ttl > 0 or self._version is not None:
                self._checked[jti] = (now, version)
        return revoked

    def mark_revoked(self, jti: str) -> None:
        with self._lock:
            self._checked.pop(jti, None)
            if len(self._revoked) < self._max:
                self._revoked.add(jti)
