"""Invariants held by the database under concurrent admin calls (threads on two instances)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, func, select

from identity.extensions import services
from identity.models.base import db
from identity.models.inbox import InboxApp
from tests.conftest import access_token, bearer

CALLS = 10


def _at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run every call in its own thread, released together."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def _add_app(app: Flask, name: str, default: bool) -> Callable[[], Any]:
    headers = bearer(access_token(app, "admin"))
    body = {"name": name, "vendor": "novu", "key": f"secret-{name}", "default": default}
    return lambda: app.test_client().post("/admin/inbox-apps", json=body, headers=headers)


def _defaults(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).where(InboxApp.is_default)) or 0)


@pytest.mark.parametrize("default", [False, True])
def test_concurrent_inbox_app_additions_leave_exactly_one_default(
    make_app: Any, default: bool
) -> None:
    """Ten simultaneous POST /admin/inbox-apps on an empty deployment, from two instances: all
    201 (never a 503), and exactly one app is the default; three rounds."""
    instances = [make_app(), make_app()]
    for round_ in range(3):
        calls = [_add_app(instances[i % 2], f"app-{round_}-{i}", default) for i in range(CALLS)]
        responses = _at_once(calls)
        assert [r.status_code for r in responses] == [201] * CALLS, [
            r.get_json() for r in responses if r.status_code != 201
        ]
        assert sum(r.get_json()["default"] for r in responses) >= 1
        assert _defaults(instances[0]) == 1
        with instances[0].app_context():
            db.session.execute(delete(InboxApp))
            db.session.commit()


def test_concurrent_key_rotations_publish_one_next_key(make_app: Any) -> None:
    """Simultaneous rotations from two instances: one 201, the others 409, one next key."""
    instances = [make_app(), make_app()]
    headers = bearer(access_token(instances[0], "admin"))

    def rotate(app: Flask) -> Callable[[], Any]:
        return lambda: app.test_client().post("/admin/keys/rotate", json={}, headers=headers)

    responses = _at_once([rotate(instances[i % 2]) for i in range(6)])
    assert sorted(r.status_code for r in responses) == [201] + [409] * 5
    with instances[0].app_context():
        states = [s.state for s in services().keys.states()]
    assert states.count("next") == 1 and states.count("active") == 1
