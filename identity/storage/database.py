"""Engine options that bound every database round trip, so a silent database is an error.

A network path to PostgreSQL can go silent (a partition, a stuck proxy) with the connections
still open: nothing resets them, and a read would wait for ever. Each stage is bounded:

    connect            libpq ``connect_timeout``
    pool checkout      ``pool_timeout`` (then ``pool_pre_ping``, itself a bounded round trip)
    each round trip    ``BoundedConnection``: no wait on the socket outlasts ``timeout``
                       (statements, commits, rollbacks, pings); the server's
                       ``statement_timeout`` cancels first when it is alive but slow
    idle connections   TCP keepalives and ``tcp_user_timeout`` let the kernel drop a dead path

Every failure is an ``OperationalError``, which the HTTP edge answers 503 UPSTREAM_UNAVAILABLE
(``identity.http.errors.database_unavailable``). SQLite is local: none of this applies.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from sqlalchemy import Connection, Engine, event, exc
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool

CONNECT_SECONDS = 2  # libpq's minimum; a reachable PostgreSQL answers in milliseconds
SERVER_MARGIN_MS = 250
POOL_SIZE = 5
MAX_OVERFLOW = 10


class BoundedConnection(psycopg.Connection[Any]):
    """A psycopg connection on which every wait for the server ends after ``round_trip``."""

    round_trip: float | None = None  # seconds; None: unbounded (set per engine, see below)

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        if timeout is not None or self.round_trip is None:  # the caller bounds it itself
            return super().wait(gen, interval=interval, timeout=timeout)
        try:
            return super().wait(gen, interval=interval, timeout=self.round_trip)
        except pg_errors._WaitTimeout:  # psycopg's own signal that ``timeout`` passed
            # The protocol state is unknown now: close, so the pool never hands it out again.
            self.pgconn.finish()
            raise psycopg.OperationalError(
                f"no answer from the database within {self.round_trip:g} s"
            ) from None


class BoundedQueuePool(QueuePool):
    """No free connection within ``pool_timeout`` is the database not keeping up: raised as
    an ``OperationalError`` like every other unavailability (not SQLAlchemy's TimeoutError)."""

    def _do_get(self) -> ConnectionPoolEntry:
        try:
            return super()._do_get()
        except exc.TimeoutError as error:
            raise exc.OperationalError("pool checkout", None, error) from None


def engine_options(url: str, timeout: int) -> dict[str, Any]:
    """SQLAlchemy engine options for ``url``; ``timeout`` bounds each PostgreSQL round trip."""
    if url.startswith("sqlite"):
        # Several server workers share the file: wait for locks instead of failing at once.
        return {"connect_args": {"timeout": 15, "check_same_thread": False}}
    return {
        "poolclass": BoundedQueuePool,
        "pool_pre_ping": True,
        "pool_size": POOL_SIZE,
        "max_overflow": MAX_OVERFLOW,
        "pool_timeout": timeout,
        "connect_args": {
            "connect_timeout": CONNECT_SECONDS,
            # Server side, a little earlier than the client gives up: a slow statement (lock
            # waits included) is cancelled cleanly and its connection stays usable.
            "options": f"-c statement_timeout={timeout * 1000 - SERVER_MARGIN_MS}",
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 2,
            "keepalives_count": 3,
            "tcp_user_timeout": (timeout + CONNECT_SECONDS) * 1000,
        },
    }


def bound_round_trips(engine: Engine, timeout: int) -> None:
    """Open the engine's PostgreSQL connections as ``BoundedConnection``s."""
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "do_connect")
    def connect(dialect: Any, record: Any, cargs: Any, cparams: Any) -> BoundedConnection:
        connection = BoundedConnection.connect(*cargs, **cparams)
        connection.round_trip = float(timeout)
        return connection


@contextmanager
def unbounded(connection: Connection) -> Iterator[None]:
    """Lift the bounds for migrations (an index on a large table takes its time); the
    connection is then discarded, never handed out again without them."""
    if connection.dialect.name != "postgresql":
        yield
        return
    raw = connection.connection.dbapi_connection
    if isinstance(raw, BoundedConnection):
        raw.round_trip = None
    connection.exec_driver_sql("SET statement_timeout = 0")
    connection.commit()
    try:
        yield
    finally:
        connection.invalidate()
