"""The audit log: every change made through the admin API or the CLI, and refused client
authentications counted per client and minute (docs/partners.md, "Audit log").

A service calls ``record`` just before it commits its change, so the event and the change share
one transaction: no change without its event, no event of a rolled-back change. Who acts comes
from ``acting_as``, set by the HTTP edge (the admin token's client) and by the CLI group.

Refusals happen on the token endpoint's hot path, so they are counted in this process and
written by a timer thread within ``flush_after`` seconds (one row per client and minute, shared
by every worker through its ``bucket`` key). A write that fails keeps the counts for the next
try; a process killed with SIGKILL loses at most its last ``flush_after`` seconds of counts.
"""

from __future__ import annotations

import atexit
import base64
import binascii
import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, delete, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from identity.errors import BadRequest
from identity.models import AuditEvent
from identity.models.base import db

log = logging.getLogger(__name__)

KINDS = ("client", "api", "api_key", "inbox_app", "upstream", "user", "key")
REFUSED = "client.auth_refused"
MAX_LIMIT = 500
PRUNE_EVERY = 3600.0  # seconds between two prunes in one process
MAX_PENDING = 10_000  # refusal buckets held in memory before new client ids fold into one


@dataclass(frozen=True)
class Actor:
    name: str  # client:<client_id>, cli, or system
    request_id: str | None = None


SYSTEM = Actor("system")  # neither the admin API nor the CLI (e.g. a test, a shell)
_actor: ContextVar[Actor | None] = ContextVar("identity_audit_actor", default=None)


@contextlib.contextmanager
def acting_as(name: str, request_id: str | None = None) -> Iterator[None]:
    """Events recorded inside the block name ``name`` as their actor."""
    token = _actor.set(Actor(name, request_id))
    try:
        yield
    finally:
        _actor.reset(token)


def now() -> datetime:
    return datetime.now(UTC)


def event_dict(row: AuditEvent) -> dict[str, Any]:
    """The public shape of one event (the same for the admin API and ``audit list --json``)."""
    return {
        "id": str(row.id),
        "at": row.at.isoformat().replace("+00:00", "Z"),
        "actor": row.actor,
        "action": row.action,
        "target": row.target,
        "outcome": row.outcome,
        "request_id": row.request_id,
        "count": row.count,
    }


def _encode_cursor(row: AuditEvent) -> str:
    return base64.urlsafe_b64encode(f"{row.at.isoformat()}|{row.id}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        at, _, ident = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(at).astimezone(UTC), int(ident)
    except (binascii.Error, UnicodeError, ValueError, OverflowError):
        raise BadRequest("Invalid cursor", {"cursor": ["not a cursor from next_cursor"]}) from None


@dataclass
class _Refusals:
    first_at: datetime
    count: int
    request_id: str | None


class AuditLog:
    def __init__(self, retention_days: int, flush_after: float = 1.0) -> None:
        self._retention = timedelta(days=retention_days)
        self._flush_after = flush_after
        self._pending: dict[tuple[str, str], _Refusals] = {}
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._next_prune = 0.0
        self._exit_hook = False

    def __repr__(self) -> str:
        return "AuditLog()"

    # --- changes -------------------------------------------------------------------------------
    def record(self, action: str, target: str, outcome: str = "success") -> None:
        """Add the event to the caller's transaction (the caller commits it with its change)."""
        actor = _actor.get() or SYSTEM
        db.session.add(
            AuditEvent(
                at=now(),
                actor=actor.name,
                action=action,
                target=target[:300],
                outcome=outcome,
                request_id=actor.request_id,
                count=1,
            )
        )
        if time.monotonic() >= self._next_prune:
            self.prune()

    def prune(self) -> None:
        """Drop events older than the retention (in the caller's transaction)."""
        self._next_prune = time.monotonic() + PRUNE_EVERY
        with db.session.no_autoflush:  # the caller's pending change fails at its commit, not here
            db.session.execute(delete(AuditEvent).where(AuditEvent.at < now() - self._retention))

    # --- refused client authentications ------------------------------------------------------
    def refused(self, client_id: str | None) -> None:
        """Count one refused client authentication; written within ``flush_after`` seconds."""
        at = now()
        target = f"client:{client_id}" if client_id else "client:unknown"
        key = (target, at.strftime("%Y-%m-%dT%H:%MZ"))
        with self._lock:
            if key not in self._pending and len(self._pending) >= MAX_PENDING:
                key = ("client:unknown", key[1])
            pending = self._pending.get(key)
            if pending is None:
                self._pending[key] = _Refusals(at, 1, (_actor.get() or SYSTEM).request_id)
            else:
                pending.count += 1
            if self._timer is None:
                self._schedule(db.engine)

    def _schedule(self, engine: Engine) -> None:
        """Write later, in a thread and a session of its own (called with the lock held)."""
        self._timer = threading.Timer(self._flush_after, self.flush, args=(engine,))
        self._timer.daemon = True
        self._timer.start()
        if not self._exit_hook:
            self._exit_hook = True
            atexit.register(self.flush, engine, False)  # a worker that exits writes them first

    def flush(self, engine: Engine, retry: bool = True) -> None:
        """Write the counted refusals; on a database error keep them for the next try."""
        with self._lock:
            batch, self._pending, self._timer = self._pending, {}, None
        if not batch:
            return
        try:
            with engine.connect() as connection:
                # Closed for real afterwards, not pooled: the app may have disposed the engine
                # meanwhile (a timer outlives its request), and nothing would close it then.
                connection.detach()
                with Session(bind=connection) as session:
                    for (target, minute), refusals in list(batch.items()):
                        _add_refusals(session, target, minute, refusals)
                        del batch[(target, minute)]  # written: never counted twice
        except SQLAlchemyError as exc:
            log.warning("audit: refused authentications not written: %s", type(exc).__name__)
            if retry:
                self._keep(batch, engine)

    def _keep(self, batch: dict[tuple[str, str], _Refusals], engine: Engine) -> None:
        with self._lock:
            for key, refusals in batch.items():
                pending = self._pending.setdefault(key, _Refusals(refusals.first_at, 0, None))
                pending.count += refusals.count
                pending.request_id = pending.request_id or refusals.request_id
            if self._timer is None:
                self._schedule(engine)

    # --- reading -------------------------------------------------------------------------------
    def list(
        self,
        since: datetime | None = None,
        action: str | None = None,
        target: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> tuple[list[AuditEvent], str | None]:
        """Events newest first, and the cursor of the next page (None on the last one)."""
        if not 1 <= limit <= MAX_LIMIT:
            raise BadRequest("Invalid limit", {"limit": [f"1-{MAX_LIMIT}"]})
        self.flush(db.engine)  # this process's refusals are visible to its own readers at once
        query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        if since is not None:
            query = query.where(AuditEvent.at >= since)
        if action:
            query = query.where(AuditEvent.action == action)
        if target:
            query = query.where(AuditEvent.target == target)
        if cursor:
            at, ident = _decode_cursor(cursor)
            query = query.where(
                or_(AuditEvent.at < at, and_(AuditEvent.at == at, AuditEvent.id < ident))
            )
        rows = list(db.session.scalars(query.limit(limit + 1)))
        db.session.commit()
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, (_encode_cursor(rows[-1]) if more else None)


def _add_refusals(session: Session, target: str, minute: str, refusals: _Refusals) -> None:
    """One row per client and minute, whichever worker writes first (unique ``bucket``)."""
    bucket = f"{REFUSED}|{target}|{minute}"
    bump = (
        update(AuditEvent)
        .where(AuditEvent.bucket == bucket)
        .values(count=AuditEvent.count + refusals.count)
    )
    if session.execute(bump).rowcount:  # type: ignore[attr-defined]
        session.commit()
        return
    session.add(
        AuditEvent(
            at=refusals.first_at,
            actor="anonymous",
            action=REFUSED,
            target=target,
            outcome="refused",
            request_id=refusals.request_id,
            count=refusals.count,
            bucket=bucket,
        )
    )
    try:
        session.commit()
    except IntegrityError:  # another worker created the row meanwhile
        session.rollback()
        session.execute(bump)
        session.commit()
