"""Key ring use cases: ensure, rotate, promote, retire, list; and the signing entry point."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from identity import limits
from identity.cache import TTLCache
from identity.crypto import signer
from identity.crypto.keyring import KeyRecord, KeyRing, KeyState
from identity.crypto.verify import verify
from identity.errors import Conflict, InternalError, NotFound
from identity.storage.keys import DatabaseKeyStore

Clock = Callable[[], datetime]


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
        *,
        bits: int,
        max_token_ttl: int,
        leeway: int,
        cache_seconds: int,
        clock: Clock = system_clock,
    ) -> None:
        self._store = store
        self._bits = bits
        self._max_ttl = max_token_ttl
        self._leeway = leeway
        self.clock = clock
        self._ring: TTLCache[None, KeyRing] = TTLCache(cache_seconds, 1)
        self._load = self._load_ring  # bound once: ring() is on every signature's path
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "KeyService(***)"

    # --- reading ---------------------------------------------------------------------------
    def ring(self) -> KeyRing:
        return self._ring.get_or_load(None, self._load)

    def _load_ring(self, _: None) -> KeyRing:
        with self._lock:
            return KeyRing(self._store.load(), self._max_ttl, self._leeway)

    def refresh(self) -> None:
        self._ring.clear()

    def jwks(self) -> dict[str, Any]:
        return self.ring().jwks(self.clock())

    def active_public_key(self) -> rsa.RSAPublicKey:
        record = self.ring().active(self.clock())
        if record is None or record.public_key is None:
            raise InternalError("No active signing key (run `identity init`)")
        return record.public_key

    def public_key(self, kid: str) -> rsa.RSAPublicKey | None:
        record = self.ring().verification_key(kid, self.clock())
        return record.public_key if record is not None else None

    def states(self) -> list[KeyState]:
        return self.ring().states(self.clock())

    # --- signing and verifying -------------------------------------------------------------
    def sign(self, claims: dict[str, Any], typ: str) -> str:
        """Sign ``claims`` with the active key (the one signer every issuer uses)."""
        record = self.ring().active(self.clock())
        if record is None or record.private_key is None:
            raise InternalError("No active signing key (run `identity init`)")
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
    def ensure(self) -> str | None:
        """Create an active key if the ring has none. Returns the new kid, if any."""
        if self.ring().active(self.clock()) is not None:
            return None
        now = self.clock()
        kid = self._store.add(self._bits, activates_at=now, now=now)
        self.refresh()
        return kid

    def rotate(self, promote_after: int) -> str:
        """Pre-publish a new key; it starts signing ``promote_after`` seconds from now.

        The "no next key yet" check reads the database under a lock, not this worker's cached
        ring: two rotations in a row (any workers, any instances) give 201 then 409.
        """
        limits.check("Invalid rotation", promote_after=(limits.KEY_PROMOTE_AFTER, promote_after))
        now = self.clock()

        def refuse_second_next(records: list[KeyRecord]) -> None:
            ring = KeyRing(records, self._max_ttl, self._leeway)
            if any(s.state == "next" for s in ring.states(now)):
                raise Conflict("A next key is already published; promote it first")

        try:
            kid = self._store.add(
                self._bits,
                activates_at=now + timedelta(seconds=promote_after),
                now=now,
                check=refuse_second_next,
            )
        finally:
            self.refresh()
        return kid

    def promote(self) -> str:
        """Make the next key active now (the previous active key becomes retired)."""
        pending = [s for s in self.states() if s.state == "next"]
        if not pending:
            raise NotFound("No next key to promote; rotate first")
        kid = pending[0].record.kid
        self._store.set_activation(kid, self.clock())
        self.refresh()
        return kid

    def retire(self) -> list[str]:
        """Delete keys whose grace period has passed (they are already out of JWKS)."""
        kids = self.ring().removable(self.clock())
        self._store.remove(kids)
        self.refresh()
        return kids
