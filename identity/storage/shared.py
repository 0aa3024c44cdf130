"""State every instance must see: token revocations, replay guards, counters, small values.

``RedisShared`` when ``REDIS_URL`` is set; ``DatabaseShared`` otherwise (counters stay
in-process there, as documented). ``FallbackShared`` wraps Redis so that a Redis outage
degrades to the database instead of failing requests, and reports it in /readyz and metrics.

Redis may also come back *empty* (restarted without persistence, flushed, replaced) without
any error reaching us: redis-py just reconnects. So revocations and values are written to the
database as well, and Redis holds a marker key without expiry (``generation``) written only
after the database's copy was loaded into it. Reads of revocations and values fetch the marker
in the same command (one round trip); a missing marker means Redis lost its data, and the
database is copied back before the answer (``FallbackShared._restore``).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

import redis
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from identity.models import KeyValue, RevokedToken, SeenSignature
from identity.models.base import db
from identity.storage.revocation_stamp import RevocationStamp

log = logging.getLogger(__name__)
T = TypeVar("T")


def _now() -> datetime:
    return datetime.now(UTC)


class SharedState(Protocol):
    @property
    def backend(self) -> str: ...  # read-only: FallbackShared reports whichever level serves

    def revoke(self, jti: str, expires_at: datetime) -> None: ...
    def is_revoked(self, jti: str) -> bool: ...
    def add_once(self, namespace: str, key: str, ttl: int) -> bool: ...
    def hit(self, namespace: str, key: str, window: int) -> tuple[int, int]: ...
    def count(self, namespace: str, key: str) -> tuple[int, int]: ...
    def reset(self, namespace: str, key: str) -> None: ...
    def get(self, namespace: str, key: str) -> str | None: ...
    def set(self, namespace: str, key: str, value: str, ttl: int) -> None: ...
    def delete(self, namespace: str, key: str) -> None: ...
    def ping(self) -> dict[str, Any]: ...


class LocalCounters:
    """Fixed-window counters in this process (the no-Redis fallback for rate limits)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, float]] = {}

    def hit(self, key: str, window: int) -> tuple[int, int]:
        now = time.monotonic()
        with self._lock:
            count, reset_at = self._windows.get(key, (0, now + window))
            if reset_at <= now:
                count, reset_at = 0, now + window
            self._windows[key] = (count + 1, reset_at)
            if len(self._windows) > 100_000:
                self._windows = {k: v for k, v in self._windows.items() if v[1] > now}
        return count + 1, max(1, int(reset_at - now + 0.999))

    def count(self, key: str) -> tuple[int, int]:
        now = time.monotonic()
        with self._lock:
            count, reset_at = self._windows.get(key, (0, now))
        if reset_at <= now:
            return 0, 0
        return count, max(1, int(reset_at - now + 0.999))

    def reset(self, key: str) -> None:
        with self._lock:
            self._windows.pop(key, None)


class DatabaseShared:
    """Shared through the database; counters are per process."""

    backend = "database"

    def __init__(self, stamp: RevocationStamp | None = None) -> None:
        self._counters = LocalCounters()
        self.stamp = stamp

    def revoke(self, jti: str, expires_at: datetime) -> None:
        if db.session.get(RevokedToken, jti) is None:
            db.session.add(RevokedToken(jti=jti, expires_at=expires_at))
            self._commit_ignoring_duplicates()
        if self.stamp is not None:
            self.stamp.touch()  # after the commit: a reader that sees it finds the row
        self._purge(RevokedToken)

    def is_revoked(self, jti: str) -> bool:
        # A column query, not an ORM entity load: this runs on every customer-token request.
        expires_at = db.session.execute(
            select(RevokedToken.expires_at).where(RevokedToken.jti == jti)
        ).scalar()
        return expires_at is not None and expires_at > _now()

    def add_once(self, namespace: str, key: str, ttl: int) -> bool:
        """One INSERT in the common case (client assertions call this on every request)."""
        digest = f"{namespace}:{key}"[:128]
        now = _now()
        expires_at = now + timedelta(seconds=ttl)
        try:
            db.session.execute(insert(SeenSignature).values(digest=digest, expires_at=expires_at))
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
        else:
            self._purge(SeenSignature)
            return True
        # Seen before: accepted again only if that entry has expired (replaced in one UPDATE).
        renewed = db.session.execute(
            update(SeenSignature)
            .where(SeenSignature.digest == digest, SeenSignature.expires_at <= now)
            .values(expires_at=expires_at)
        )
        db.session.commit()
        return bool(renewed.rowcount)  # type: ignore[attr-defined]

    def hit(self, namespace: str, key: str, window: int) -> tuple[int, int]:
        return self._counters.hit(f"{namespace}:{key}", window)

    def count(self, namespace: str, key: str) -> tuple[int, int]:
        return self._counters.count(f"{namespace}:{key}")

    def reset(self, namespace: str, key: str) -> None:
        self._counters.reset(f"{namespace}:{key}")

    def get(self, namespace: str, key: str) -> str | None:
        row = db.session.get(KeyValue, f"{namespace}:{key}")
        return row.value if row is not None and row.expires_at > _now() else None

    def set(self, namespace: str, key: str, value: str, ttl: int) -> None:
        full = f"{namespace}:{key}"
        row = db.session.get(KeyValue, full)
        expires = _now() + timedelta(seconds=ttl)
        if row is None:
            db.session.add(KeyValue(key=full, value=value, expires_at=expires))
        else:
            row.value, row.expires_at = value, expires
        self._commit_ignoring_duplicates()
        self._purge(KeyValue)

    def delete(self, namespace: str, key: str) -> None:
        db.session.execute(delete(KeyValue).where(KeyValue.key == f"{namespace}:{key}"))
        db.session.commit()

    def ping(self) -> dict[str, Any]:
        db.session.execute(select(1))
        return {"shared_state": "database"}

    def _commit_ignoring_duplicates(self) -> bool:
        try:
            db.session.commit()
            return True
        except IntegrityError:  # another instance wrote the same key first
            db.session.rollback()
            return False

    def _purge(self, model: Any) -> None:
        """Drop expired rows now and then, so the tables stay small."""
        if time.monotonic() % 50 < 1:
            db.session.execute(delete(model).where(model.expires_at < _now()))
            db.session.commit()


class RedisDataLost(Exception):
    """Redis answered, but without the marker: it lost (some of) the data we wrote."""


class RedisShared:
    """Shared through Redis; every key is prefixed and expires on its own, but the marker."""

    backend = "redis"
    MARKER = "generation"

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self.marker = f"{prefix}{self.MARKER}"

    def _k(self, namespace: str, key: str) -> str:
        return f"{self.prefix}{namespace}:{key}"

    def _read_marked(self, key: str) -> Any:
        """``key``'s value, read together with the marker (one command)."""
        marker, value = self.client.mget(self.marker, key)
        if marker is None:
            raise RedisDataLost()
        return value

    def _write_marked(self, key: str, value: str, ttl: int) -> None:
        """Write ``key`` and look at the marker in the same round trip."""
        pipe = self.client.pipeline(transaction=False)
        pipe.set(key, value, ex=max(1, ttl))
        pipe.exists(self.marker)
        if not pipe.execute()[1]:
            raise RedisDataLost()

    def revoke(self, jti: str, expires_at: datetime) -> None:
        self._write_marked(self._k("revoked", jti), "1", _ttl(expires_at))

    def is_revoked(self, jti: str) -> bool:
        return self._read_marked(self._k("revoked", jti)) is not None

    def add_once(self, namespace: str, key: str, ttl: int) -> bool:
        return bool(self.client.set(self._k(namespace, key), "1", ex=max(1, ttl), nx=True))

    def hit(self, namespace: str, key: str, window: int) -> tuple[int, int]:
        full = self._k(namespace, key)
        pipe = self.client.pipeline()
        pipe.incr(full)
        pipe.expire(full, window, nx=True)
        pipe.ttl(full)
        count, _, ttl = pipe.execute()
        return int(count), max(1, int(ttl))

    def count(self, namespace: str, key: str) -> tuple[int, int]:
        full = self._k(namespace, key)
        pipe = self.client.pipeline()
        pipe.get(full)
        pipe.ttl(full)
        value, ttl = pipe.execute()
        return (int(value), max(1, int(ttl))) if value is not None else (0, 0)

    def reset(self, namespace: str, key: str) -> None:
        self.client.delete(self._k(namespace, key))

    def get(self, namespace: str, key: str) -> str | None:
        value = self._read_marked(self._k(namespace, key))
        return value.decode() if isinstance(value, bytes) else value

    def set(self, namespace: str, key: str, value: str, ttl: int) -> None:
        self._write_marked(self._k(namespace, key), value, ttl)

    def delete(self, namespace: str, key: str) -> None:
        self.client.delete(self._k(namespace, key))

    def is_marked(self) -> bool:
        return bool(self.client.exists(self.marker))

    def load(self, revocations: Iterable[RevokedToken], values: Iterable[KeyValue]) -> None:
        """Copy the database's revocations and values in, then write the marker: all in one
        MULTI/EXEC, so a Redis that restarts meanwhile never holds a marker without data."""
        pipe = self.client.pipeline(transaction=True)
        for row in revocations:
            pipe.set(self._k("revoked", row.jti), "1", ex=_ttl(row.expires_at))
        for item in values:
            pipe.set(f"{self.prefix}{item.key}", item.value, ex=_ttl(item.expires_at))
        pipe.set(self.marker, secrets.token_hex(8), nx=True)
        pipe.execute()

    def ping(self) -> dict[str, Any]:
        self.client.ping()
        return {"shared_state": "redis"}


def _ttl(expires_at: datetime) -> int:
    return max(1, int((expires_at - _now()).total_seconds()) + 1)


class FallbackShared:
    """Redis first; on a Redis error, the database (and in-process counters) instead.

    While degraded, Redis is retried at most every ``RETRY_SECONDS`` so that a dead Redis does
    not add a connection timeout to every request. Revocations and values are written to both
    levels; when Redis lost them (``RedisDataLost``), the database answers and is copied back.
    """

    RETRY_SECONDS = 5.0

    def __init__(self, primary: RedisShared, fallback: DatabaseShared) -> None:
        self.primary = primary
        self.fallback = fallback
        self.degraded_since: float | None = None
        self._retry_at = 0.0
        self._loading = threading.Lock()
        self.on_degrade: Callable[[bool], None] = lambda degraded: None

    @property
    def backend(self) -> str:
        return "database (redis down)" if self.degraded_since else "redis"

    def _degrade(self, exc: Exception) -> None:
        self._retry_at = time.monotonic() + self.RETRY_SECONDS
        if self.degraded_since is None:
            log.warning("redis unavailable, falling back to the database: %s", type(exc).__name__)
            self.degraded_since = time.monotonic()
            self.on_degrade(True)

    def _recover(self) -> None:
        if self.degraded_since is not None:
            log.info("redis is back; copying revocations made meanwhile")
            self._restore()
            self.degraded_since = None
            self.on_degrade(False)

    def _restore(self) -> None:
        """Copy the database's revocations and values into Redis (one thread per process at a
        time; the others answer from the database meanwhile)."""
        if not self._loading.acquire(blocking=False):
            return
        try:
            now = _now()
            revocations = db.session.scalars(
                select(RevokedToken).where(RevokedToken.expires_at > now)
            ).all()
            values = db.session.scalars(select(KeyValue).where(KeyValue.expires_at > now)).all()
            self.primary.load(revocations, values)
        except redis.RedisError as exc:
            self._degrade(exc)
        finally:
            self._loading.release()

    def restore_if_lost(self) -> None:
        """At worker start: reload Redis when it lost its data (or never had it)."""
        try:
            marked = self.primary.is_marked()
        except redis.RedisError as exc:
            self._degrade(exc)
            return
        if not marked:
            log.warning("redis holds no shared state marker; copying revocations back into it")
            self._restore()

    def _call(self, name: str, *args: Any) -> Any:
        if self.degraded_since is not None and time.monotonic() < self._retry_at:
            return getattr(self.fallback, name)(*args)
        try:
            result = getattr(self.primary, name)(*args)
        except redis.RedisError as exc:
            self._degrade(exc)
            return getattr(self.fallback, name)(*args)
        except RedisDataLost:
            log.warning("redis lost its data; copying revocations back from the database")
            self._restore()
            return getattr(self.fallback, name)(*args)  # the database is complete
        self._recover()
        return result

    def revoke(self, jti: str, expires_at: datetime) -> None:
        # Revocations also go to the database so they survive a Redis outage or flush.
        self.fallback.revoke(jti, expires_at)
        self._call("revoke", jti, expires_at)

    def is_revoked(self, jti: str) -> bool:
        if self.degraded_since is not None:  # Redis may have missed revocations meanwhile
            return self.fallback.is_revoked(jti)
        return bool(self._call("is_revoked", jti))

    def add_once(self, namespace: str, key: str, ttl: int) -> bool:
        return bool(self._call("add_once", namespace, key, ttl))

    def hit(self, namespace: str, key: str, window: int) -> tuple[int, int]:
        return self._call("hit", namespace, key, window)  # type: ignore[no-any-return]

    def count(self, namespace: str, key: str) -> tuple[int, int]:
        return self._call("count", namespace, key)  # type: ignore[no-any-return]

    def reset(self, namespace: str, key: str) -> None:
        self._call("reset", namespace, key)

    def get(self, namespace: str, key: str) -> str | None:
        return self._call("get", namespace, key)  # type: ignore[no-any-return]

    def set(self, namespace: str, key: str, value: str, ttl: int) -> None:
        # Values (a customer session's live token id) also go to the database, as revocations.
        self.fallback.set(namespace, key, value, ttl)
        self._call("set", namespace, key, value, ttl)

    def delete(self, namespace: str, key: str) -> None:
        self.fallback.delete(namespace, key)
        self._call("delete", namespace, key)

    def ping(self) -> dict[str, Any]:
        """Raises when Redis is down, so /readyz reports it (while requests fall back)."""
        self.fallback.ping()
        try:
            self.primary.ping()
        except redis.RedisError as exc:
            self._degrade(exc)
            raise
        self._recover()
        return {"shared_state": "redis"}


def build_shared(
    redis_url: str, prefix: str, database_url: str = ""
) -> SharedState | FallbackShared:
    if not redis_url:
        return DatabaseShared(RevocationStamp.for_database(database_url))
    client = redis.Redis.from_url(
        redis_url, socket_connect_timeout=1.0, socket_timeout=2.0, health_check_interval=30
    )
    return FallbackShared(RedisShared(client, prefix), DatabaseShared())
