"""The key ring policy: which key signs, which are published, which may go.

Each algorithm (RS256, ES256) has its own sequence of keys, with the same policy. A key's state
is derived from timestamps, never stored, so every instance that reads the same rows reaches
the same answer at the same moment without a scheduler:

    next     activates_at > now                  published, not signing
    active   the latest key of its alg with activates_at <= now   signs
    retired  an older key, until its successor has been active for the longest token lifetime
    removed  past that: dropped from JWKS and deletable

Verification looks a ``kid`` up among published keys only (Flask's SECRET_KEY_FALLBACKS idea).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from identity.crypto.keys import RS256, PrivateKey, PublicKey


@dataclass(frozen=True)
class KeyRecord:
    kid: str
    activates_at: datetime
    created_at: datetime
    public_jwk: dict[str, Any]
    private_key: PrivateKey | None = field(default=None, repr=False, compare=False)
    public_key: PublicKey | None = field(default=None, repr=False, compare=False)
    alg: str = RS256


@dataclass(frozen=True)
class KeyState:
    record: KeyRecord
    state: str  # next | active | retired | removed
    retires_at: datetime | None  # when its successor became active
    remove_after: datetime | None


class KeyRing:
    """An immutable view of the ring at read time; states are evaluated at a given ``now``."""

    def __init__(self, records: list[KeyRecord], max_token_ttl: int, leeway: int = 0) -> None:
        self._records = sorted(records, key=lambda r: (r.activates_at, r.created_at))
        self._by_kid = {r.kid: r for r in self._records}
        self._grace = timedelta(seconds=max_token_ttl + leeway)

    def __len__(self) -> int:
        return len(self._records)

    def _sequence(self, alg: str) -> list[KeyRecord]:
        return [r for r in self._records if r.alg == alg]

    def states(self, now: datetime) -> list[KeyState]:
        """Every key's state, in activation order (the algorithms interleaved)."""
        by_kid: dict[str, KeyState] = {}
        for alg in dict.fromkeys(r.alg for r in self._records):
            by_kid.update((s.record.kid, s) for s in self._states(self._sequence(alg), now))
        return [by_kid[r.kid] for r in self._records]

    def _states(self, sequence: list[KeyRecord], now: datetime) -> list[KeyState]:
        out: list[KeyState] = []
        started = [r for r in sequence if r.activates_at <= now]
        active = started[-1] if started else None
        for index, record in enumerate(sequence):
            successor = sequence[index + 1] if index + 1 < len(sequence) else None
            if record.activates_at > now:
                out.append(KeyState(record, "next", None, None))
            elif record is active:
                out.append(KeyState(record, "active", None, None))
            else:
                assert successor is not None
                retires_at = successor.activates_at
                remove_after = retires_at + self._grace
                state = "retired" if now < remove_after else "removed"
                out.append(KeyState(record, state, retires_at, remove_after))
        return out

    def active(self, now: datetime, alg: str = RS256) -> KeyRecord | None:
        started = [r for r in self._sequence(alg) if r.activates_at <= now]
        return started[-1] if started else None

    def published(self, now: datetime) -> list[KeyRecord]:
        return [s.record for s in self.states(now) if s.state != "removed"]

    def verification_key(self, kid: str, now: datetime) -> KeyRecord | None:
        """The published key with this ``kid``; exact dictionary lookup, nothing else."""
        record = self._by_kid.get(kid)
        if record is None:
            return None
        return record if record in self.published(now) else None

    def jwks(self, now: datetime) -> dict[str, list[dict[str, Any]]]:
        """RFC 7517 §5 JWK Set of the published keys of every algorithm, active ones first."""
        states = [s for s in self.states(now) if s.state != "removed"]
        states.sort(key=lambda s: s.state != "active")
        return {"keys": [dict(s.record.public_jwk) for s in states]}

    def removable(self, now: datetime) -> list[str]:
        return [s.record.kid for s in self.states(now) if s.state == "removed"]
