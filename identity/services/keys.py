"""Key ring use cases: ensure, rotate, promote, retire, list; and the signing entry point."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.exc import InterfaceError, OperationalError

from identity import limits
from identity.crypto import signer
from identity.crypto.keyring import KeyRecord, KeyRing, KeyState
from identity.crypto.keys import RS256, PublicKey
from identity.crypto.verify import verify
from identity.errors import Conflict, InternalError, NotFound
from identity.models.base import db
from identity.services.audit import AuditLog
from identity.storage.keys import DatabaseKeyStore

Clock = Callable[[], datetime]
log = logging.getLogger(__name__)
RELOAD_BACKOFF = 30.0  # seconds between tries to re-read the ring while the database fails


def system_clock() -> datetime:
    return datetime.now(UTC)


class KeyService:
    """Signs with the ring's active key and verifies by ``kid`` against published keys.

    The ring is re-read from the database at most every ``cache_seconds``; key states are
    evaluated from timestamps at call time, so a pre-published key starts signing on every
    instance at the same moment.
    """

    def __init__(
        self,
        store: DatabaseKeyStore,
        audit: AuditLog,
        *,
        bits: int,
        max_token_ttl: int,
        leeway: int,
        cache_seconds: int,
        clock: Clock = system_clock,
    ) -> None:
        self._store = store
        self._audit = audit
        self._bits = bits
        self._max_ttl = max_token_ttl
        self._leeway = leeway
        self._cache_seconds = cache_seconds
        self.clock = clock
        self._ring: KeyRing | None = None
        self._fresh_until = 0.0  # monotonic time until which the held ring is used as is
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "KeyService(***)"

    # --- reading ---------------------------------------------------------------------------
    def ring(self) -> KeyRing:
        """The cached ring, re-read when older than ``cache_seconds``. While one thread
        re-reads, or when the database does not answer, the ring already held keeps serving:
        signing needs no database round trip (and never queues behind a silent one). After a
        failed re-read the next try waits ``RELOAD_BACKOFF``, so few requests pay for one."""
        ring = self._ring
        if ring is not None and time.monotonic() < self._fresh_until:
            return ring
        if ring is not None and not self._lock.acquire(blocking=False):
            return ring  # another thread is re-reading it
        if ring is None:
            self._lock.acquire()
        try:
            ring = KeyRing(self._store.load(), self._max_ttl, self._leeway)
            fresh_for = float(self._cache_seconds)
        except (OperationalError, InterfaceError) as exc:
            if self._ring is None:
                raise
            db.session.rollback()
            log.warning("key ring not re-read (%s); serving the one held", type(exc).__name__)
            ring, fresh_for = self._ring, max(self._cache_seconds, RELOAD_BACKOFF)
        finally:
            self._lock.release()
        self._ring, self._fresh_until = ring, time.monotonic() + fresh_for
        return ring

    def refresh(self) -> None:
        self._ring = None

    def jwks(self) -> dict[str, Any]:
        return self.ring().jwks(self.clock())

    def active_public_key(self) -> rsa.RSAPublicKey:
        """The active RS256 key's public half (the inbox PEM; RSA is what consoles take)."""
        record = self.ring().active(self.clock())
        if record is None or not isinstance(record.public_key, rsa.RSAPublicKey):
            raise InternalError("No active signing key (run `identity init`)")
        return record.public_key

    def public_key(self, kid: str) -> PublicKey | None:
        record = self.ring().verification_key(kid, self.clock())
        return record.public_key if record is not None else None

    def states(self) -> list[KeyState]:
        return self.ring().states(self.clock())

    # --- signing and verifying -------------------------------------------------------------
    def sign(self, claims: dict[str, Any], typ: str, alg: str = RS256) -> str:
        """Sign ``claims`` with the active ``alg`` key (the one signer every issuer uses)."""
        record = self.ring().active(self.clock(), alg)
        if record is None:  # e.g. the first ES256 key, made a moment ago by another instance
            self.refresh()
            record = self.ring().active(self.clock(), alg)
        if record is None or record.private_key is None:
            raise InternalError(f"No active {alg} signing key (run `identity init`)")
        return signer.sign(claims, record.private_key, record.kid, typ)

    def verify(self, token: str, *, typ: str, issuer: str, audience: str | None) -> dict[str, Any]:
        return verify(
            token,
            lookup=self.public_key,
            typ=typ,
            issuer=issuer,
            audience=audience,
            leeway=self._leeway,
        )

    # --- managing the ring -----------------------------------------------------------------
    def ensure(self, alg: str = RS256) -> str | None:
        """Create an active ``alg`` key if the ring has none. Returns the new kid, if any.

        The check is repeated under the store's lock, so instances ensuring at once create
        one key between them."""
        if self.ring().active(self.clock(), alg) is not None:
            return None
        now = self.clock()

        def refuse_second_active(records: list[KeyRecord]) -> None:
            if KeyRing(records, self._max_ttl, self._leeway).active(now, alg) is not None:
                raise Conflict(f"An {alg} key is already active")

        try:
            return self._store.add(
                self._bits,
                activates_at=now,
                now=now,
                check=refuse_second_active,
                alg=alg,
                before_commit=self._recorder("key.create"),
            )
        except Conflict:
            return None
        finally:
            self.refresh()

    def rotate(self, promote_after: int, alg: str = RS256) -> str:
        """Pre-publish a new ``alg`` key; it starts signing ``promote_after`` seconds from now.

        The "no next key yet" check reads the database under a lock, not this worker's cached
        ring: two rotations in a row (any workers, any instances) give 201 then 409.
        """
        limits.check("Invalid rotation", promote_after=(limits.KEY_PROMOTE_AFTER, promote_after))
        now = self.clock()

        def refuse_second_next(records: list[KeyRecord]) -> None:
            ring = KeyRing(records, self._max_ttl, self._leeway)
            if any(s.state == "next" and s.record.alg == alg for s in ring.states(now)):
                raise Conflict(f"A next {alg} key is already published; promote it first")

        try:
            kid = self._store.add(
                self._bits,
                activates_at=now + timedelta(seconds=promote_after),
                now=now,
                check=refuse_second_next,
                alg=alg,
                before_commit=self._recorder("key.rotate"),
            )
        finally:
            self.refresh()
        return kid

    def promote(self, alg: str = RS256) -> str:
        """Make the next ``alg`` key active now (the previous active key becomes retired)."""
        pending = [s for s in self.states() if s.state == "next" and s.record.alg == alg]
        if not pending:
            raise NotFound(f"No next {alg} key to promote; rotate first")
        kid = pending[0].record.kid
        self._audit.record("key.promote", f"key:{kid}")
        self._store.set_activation(kid, self.clock())
        self.refresh()
        return kid

    def _recorder(self, action: str) -> Callable[[str], None]:
        return lambda kid: self._audit.record(action, f"key:{kid}")

    def retire(self) -> list[str]:
        """Delete keys whose grace period has passed (they are already out of JWKS)."""
        kids = self.ring().removable(self.clock())
        for kid in kids:
            self._audit.record("key.retire", f"key:{kid}")
        self._store.remove(kids)
        self.refresh()
        return kids
