"""The key ring policy: which key signs, which are published, which may go.

A key's state is derived from timestamps, never stored, so every instance that reads the same
rows reaches the same answer at the same moment without a scheduler:

    next     activates_at > now                  published, not signing
    active   the latest key with activates_at <= now   signs
    retired  an older key, until its successor has been active for the longest token lifetime
    removed  past that: dropped from JWKS and deletable

Verification looks a ``kid`` up among published keys only (Flask's SECRET_KEY_FALLBACKS idea).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa


@dataclass(frozen=True)
class KeyRecord:
    kid: str
    activates_at: datetime
    created_at: datetime
    public_jwk: dict[str, Any]
    private_key: rsa.RSAPrivateKey | None = field(default=None, repr=False, compare=False)
    public_key: rsa.RSAPublicKey | None = field(default=None, repr=False, compare=False)


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

    def states(self, now: datetime) -> list[KeyState]:
        out: list[KeyState] = []
        started = [r for r in self._records if r.activates_at <= now]
        active = started[-1] if started else None
        for index, record in enumerate(self._records):
            successor = self._records[index + 1] if index + 1 < len(self._records) else None
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

    def active(self, now: datetime) -> KeyRecord | None:
        started = [r for r in self._records if r.activates_at <= now]
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
        """RFC 7517 §5 JWK Set of the published keys, active first."""
        published = self.published(now)
        active = self.active(now)
        published.sort(key=lambda r: r is not active)
        return {"keys": [dict(r.public_jwk) for r in published]}

    def removable(self, now: datetime) -> list[str]:
        return [s.record.kid for s in self.states(now) if s.state == "removed"]
