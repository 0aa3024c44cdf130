"""Run a transaction again when the database refereed a race and it lost.

Invariants live in the database (unique and partial unique indexes, row locks); a request
that loses a race to one is run again with what the winner committed, a bounded number of
times. A deadlock or serialization failure (SQLSTATE class 40) is such a race, never an
outage: it is retried here, and should it still escape, the HTTP edge answers 409.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

from identity.errors import Conflict
from identity.models.base import db

T = TypeVar("T")
ATTEMPTS = 5


class Contended(Exception):
    """Raised inside a transaction that lost a race (e.g. to a unique index): run it again."""


def is_transaction_conflict(exc: BaseException) -> bool:
    """A deadlock or serialization failure (SQLSTATE 40001, 40P01): retry, do not report."""
    sqlstate = getattr(exc.orig, "sqlstate", None) if isinstance(exc, DBAPIError) else None
    return isinstance(sqlstate, str) and sqlstate.startswith("40")


def retrying(transaction: Callable[[], T], attempts: int = ATTEMPTS) -> T:
    """``transaction()`` (which commits), again after a rollback while it loses races."""
    for attempt in range(1, attempts + 1):
        try:
            return transaction()
        except (Contended, DBAPIError) as exc:
            if isinstance(exc, DBAPIError) and not is_transaction_conflict(exc):
                raise
            db.session.rollback()
            if attempt == attempts:
                break
            time.sleep(random.uniform(0, 0.01 * 2**attempt))  # noqa: S311 - jitter, not a secret
    raise Conflict("Too many concurrent changes to the same data; try again")
