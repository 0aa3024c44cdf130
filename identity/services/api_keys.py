"""API keys: ``idk_<lookup>_<secret>``; the lookup prefix finds the row, the HMAC proves the key."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from identity import limits
from identity.cache import MISSING, TTLCache
from identity.crypto.hashing import hash_secret, matches
from identity.errors import BadRequest, NotFound, Unauthorized
from identity.models import ApiKey
from identity.models.base import db
from identity.scopes import scope_errors
from identity.services.audit import AuditLog

PREFIX = "idk_"
HEX = frozenset("0123456789abcdef")  # the lookup is token_hex(6)
LAST_USED_EVERY = 60.0  # seconds between last_used_at writes per key: no write per request


@dataclass(frozen=True)
class ApiKeyPrincipal:
    id: str
    name: str
    scopes: frozenset[str]


@dataclass(frozen=True)
class CreatedApiKey:
    id: str
    key: str
    scope: str
    expires_at: datetime | None

    def __repr__(self) -> str:
        return f"CreatedApiKey(id={self.id!r}, scope={self.scope!r})"


def _parse(key: str) -> tuple[str, str] | None:
    if not key.startswith(PREFIX) or len(key) > 200:
        return None
    body = key[len(PREFIX) :]
    lookup, sep, secret = body.partition("_")
    if not sep or len(lookup) != 12 or not secret or not set(lookup) <= HEX:
        return None
    return lookup, secret


@dataclass(frozen=True)
class _Snapshot:
    """What authentication needs of a row, cached in-process for ``cache_seconds``."""

    id: str
    name: str
    key_hash: str
    scope: str
    expires_at: datetime | None
    revoked_at: datetime | None


class ApiKeyService:
    def __init__(self, pepper: str, audit: AuditLog, cache_seconds: float = 0.0) -> None:
        self._pepper = pepper
        self._audit = audit
        self._snapshots: TTLCache[str, _Snapshot] = TTLCache(cache_seconds, 10_000)
        self._touched: TTLCache[str, bool] = TTLCache(LAST_USED_EVERY, 10_000)

    def __repr__(self) -> str:
        return "ApiKeyService(***)"

    def create(self, name: str, scope: str, expires_in: int | None = None) -> CreatedApiKey:
        limits.check(
            "Invalid API key",
            name=(limits.API_KEY_NAME, name.strip()),
            scope=(limits.SCOPE, scope),
            expires_in=(limits.API_KEY_EXPIRES_IN, expires_in),
        )
        if scope_errors(scope):
            raise BadRequest("Unknown scope", scope_errors(scope))
        lookup = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)  # 256 bits
        key = f"{PREFIX}{lookup}_{secret}"
        now = datetime.now(UTC)
        expires_at = now + timedelta(seconds=expires_in) if expires_in else None
        row = ApiKey(
            id=f"ak_{secrets.token_hex(8)}",
            name=name.strip(),
            lookup=lookup,
            key_hash=hash_secret(key, self._pepper),
            scope=" ".join(sorted(set(scope.split()))),
            created_at=now,
            expires_at=expires_at,
        )
        db.session.add(row)
        self._audit.record("api_key.create", f"api_key:{row.id}")
        db.session.commit()
        return CreatedApiKey(row.id, key, row.scope, expires_at)

    def authenticate(self, key: str) -> ApiKeyPrincipal:
        """The key's principal, or ``Unauthorized`` (unknown, wrong, expired or revoked)."""
        parsed = _parse(key)
        if parsed is None:
            raise Unauthorized("Invalid API key")
        row = self._snapshot(parsed[0])
        # Hash and compare even when the row is missing, so timing does not tell.
        stored = row.key_hash if row is not None else "0" * 64
        valid = matches(key, stored, self._pepper) and row is not None
        now = datetime.now(UTC)
        if not valid or row is None or row.revoked_at is not None:
            raise Unauthorized("Invalid API key")
        if row.expires_at is not None and row.expires_at <= now:
            raise Unauthorized("API key expired")
        self._touch(row.id, now)
        return ApiKeyPrincipal(row.id, row.name, frozenset(row.scope.split()))

    def _snapshot(self, lookup: str) -> _Snapshot | None:
        """The row by lookup prefix; kept in-process briefly so that a key is not a database
        read per request (revocation here applies at once, elsewhere within the cache time)."""
        cached = self._snapshots.get(lookup)
        if cached is not MISSING:
            return cached
        row = db.session.scalar(select(ApiKey).where(ApiKey.lookup == lookup))
        if row is None:
            return None
        snapshot = _Snapshot(
            row.id,
            row.name,
            row.key_hash,
            row.scope,
            row.expires_at,
            row.revoked_at,
        )
        self._snapshots.put(lookup, snapshot)
        return snapshot

    def _touch(self, key_id: str, now: datetime) -> None:
        if self._touched.get(key_id) is not MISSING:
            return
        self._touched.put(key_id, True)
        db.session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))
        db.session.commit()

    def list(self) -> list[ApiKey]:
        return list(db.session.scalars(select(ApiKey).order_by(ApiKey.created_at)))

    def revoke(self, key_id: str) -> ApiKey:
        row = db.session.get(ApiKey, key_id)
        if row is None:
            raise NotFound("No such API key")
        if row.revoked_at is None:
            row.revoked_at = datetime.now(UTC)
            self._audit.record("api_key.revoke", f"api_key:{row.id}")
            db.session.commit()
        self._snapshots.pop(row.lookup)
        return row
