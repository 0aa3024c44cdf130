"""Transactions that lose a race are run again, a bounded number of times, never a 503."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from psycopg import errors as pg_errors
from sqlalchemy.exc import OperationalError

from identity.errors import Conflict
from identity.http.errors import database_unavailable
from identity.storage.transactions import Contended, retrying


def _deadlock() -> OperationalError:
    return OperationalError("UPDATE ...", None, pg_errors.DeadlockDetected("deadlock detected"))


def _failing(times: int, error: Any) -> tuple[list[int], Any]:
    calls: list[int] = []

    def transaction() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise error()
        return "done"

    return calls, transaction


@pytest.mark.parametrize("error", [_deadlock, Contended])
def test_lost_races_are_run_again(app: Flask, error: Any) -> None:
    calls, transaction = _failing(2, error)
    with app.app_context():
        assert retrying(transaction) == "done"
    assert len(calls) == 3


def test_a_race_lost_every_time_is_a_409_after_five_attempts(app: Flask) -> None:
    calls, transaction = _failing(100, Contended)
    with app.app_context(), pytest.raises(Conflict):
        retrying(transaction)
    assert len(calls) == 5


def test_other_database_errors_are_not_retried(app: Flask) -> None:
    lost = OperationalError("SELECT 1", None, pg_errors.AdminShutdown("terminating"))
    calls, transaction = _failing(1, lambda: lost)
    with app.app_context(), pytest.raises(OperationalError):
        retrying(transaction)
    assert len(calls) == 1


def test_an_escaped_deadlock_is_a_conflict_not_an_outage(app: Flask) -> None:
    with app.test_request_context():
        error = database_unavailable(_deadlock())
        down = database_unavailable(OperationalError("SELECT 1", None, OSError("reset")))
    assert (error.status, error.message_id) == (409, "CONFLICT")
    assert (down.status, down.message_id) == (503, "UPSTREAM_UNAVAILABLE")
