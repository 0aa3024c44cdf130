"""The broker's shared level in the database (no Redis): the ``upstream_tokens`` row.

One row per connection holds the sealed token, the single-flight lease and the breaker state.
The lease is taken with one conditional ``UPDATE`` (``lock_until`` in the past → ours, and
``fence`` + 1): atomic on SQLite and PostgreSQL alike, and no transaction stays open during
the upstream call. ``fence`` is the fencing token: a token is stored only by the current holder.
Each operation runs in its own short transaction on its own connection, apart from the
request's session.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from identity.broker.model import BreakerState, StoredToken
from identity.models import UpstreamToken
from identity.models.base import db

T = UpstreamToken.__table__


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _epoch(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


class DatabaseUpstreamStore:
    backend = "database"

    def _ensure_row(self, conn: Connection, name: str) -> None:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        stmt: Any = dialect.insert(T).values(connection=name, fence=0, failures=0)
        conn.execute(stmt.on_conflict_do_nothing(index_elements=["connection"]))

    def load(self, name: str) -> StoredToken | None:
        with db.engine.connect() as conn:
            row = conn.execute(select(T).where(T.c.connection == name)).one_or_none()
        if row is None or row.token_sealed is None or row.expires_at is None:
            return None
        return StoredToken(
            sealed=row.token_sealed,
            obtained_at=_epoch(row.obtained_at) or 0.0,
            expires_at=row.expires_at.timestamp(),
            refresh_at=_epoch(row.refresh_at) or 0.0,
            invalid=row.refresh_at is None,  # invalidate() clears refresh_at
        )

    def save(self, name: str, record: StoredToken, fence: int, now: float) -> bool:
        values = {
            "token_sealed": record.sealed,
            "obtained_at": _dt(record.obtained_at),
            "expires_at": _dt(record.expires_at),
            "refresh_at": _dt(record.refresh_at),
        }
        with db.engine.begin() as conn:
            stmt = update(T).where(T.c.connection == name, T.c.fence == fence).values(**values)
            return bool(conn.execute(stmt).rowcount == 1)

    def invalidate(self, name: str) -> None:
        with db.engine.begin() as conn:
            conn.execute(update(T).where(T.c.connection == name).values(refresh_at=None))

    def forget(self, name: str) -> None:
        with db.engine.begin() as conn:
            conn.execute(delete(T).where(T.c.connection == name))

    def try_acquire(self, name: str, ttl: float, now: float) -> int | None:
        with db.engine.begin() as conn:
            self._ensure_row(conn, name)
            free = (T.c.lock_until.is_(None)) | (T.c.lock_until < _dt(now))
            stmt = (
                update(T)
                .where(T.c.connection == name, free)
                .values(lock_until=_dt(now + ttl), fence=T.c.fence + 1)
            )
            if conn.execute(stmt).rowcount != 1:
                return None
            return int(conn.execute(select(T.c.fence).where(T.c.connection == name)).scalar_one())

    def release(self, name: str, fence: int) -> None:
        with db.engine.begin() as conn:
            stmt = update(T).where(T.c.connection == name, T.c.fence == fence)
            conn.execute(stmt.values(lock_until=None))

    def breaker(self, name: str) -> BreakerState:
        with db.engine.connect() as conn:
            row = conn.execute(
                select(T.c.failures, T.c.retry_at).where(T.c.connection == name)
            ).one_or_none()
        if row is None or not row.failures:
            return BreakerState()
        return BreakerState(row.failures, _epoch(row.retry_at))

    def record_failure(self, name: str, state: BreakerState) -> None:
        retry_at = _dt(state.retry_at) if state.retry_at is not None else None
        with db.engine.begin() as conn:
            self._ensure_row(conn, name)
            stmt = update(T).where(T.c.connection == name)
            conn.execute(stmt.values(failures=state.failures, retry_at=retry_at))

    def clear_failures(self, name: str) -> None:
        with db.engine.begin() as conn:
            stmt = update(T).where(T.c.connection == name)
            conn.execute(stmt.values(failures=0, retry_at=None))
