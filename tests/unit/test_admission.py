"""identity.admission: at most ``slots`` requests run at once; waits give the turn back."""

from __future__ import annotations

import threading
import time

from sqlalchemy import create_engine, event, text
from sqlalchemy.orm import Session

from identity.admission import Admission


def test_at_most_slots_requests_run_at_once() -> None:
    admission = Admission(2)
    running, peak, lock = [0], [0], threading.Lock()

    def request() -> None:
        with admission.admitted():
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            time.sleep(0.02)
            with lock:
                running[0] -= 1

    threads = [threading.Thread(target=request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak[0] == 2


def test_a_waiting_request_lets_another_run() -> None:
    """One slot: a request waiting on I/O (nested waits included) does not block the next."""
    admission = Admission(1)
    release = threading.Event()
    other_done = threading.Event()

    def slow() -> None:
        with admission.admitted(), admission.waiting(), admission.waiting():
            release.wait(5)

    def fast() -> None:
        with admission.admitted():
            other_done.set()

    slow_thread = threading.Thread(target=slow)
    slow_thread.start()
    time.sleep(0.05)
    fast_thread = threading.Thread(target=fast)
    fast_thread.start()
    assert other_done.wait(2), "the waiting request kept its admission"
    release.set()
    slow_thread.join()
    fast_thread.join()


def test_a_database_statement_gives_the_admission_up() -> None:
    """After a statement the request runs unadmitted (never blocks to take it back)."""
    admission = Admission(1)
    engine = create_engine("sqlite://")

    def free() -> bool:  # can another request get in right now?
        got = admission._free.acquire(timeout=0.5)
        if got:
            admission._free.release()
        return got

    with admission.admitted():
        seen = [free()]
        with engine.connect() as connection:
            connection.execute(text("select 1"))
            seen.append(free())
            connection.execute(text("select 1"))
    seen.append(free())
    assert seen == [False, True, True]
    assert admission._free.acquire(timeout=0)  # the slot was released exactly once
    assert not admission._free.acquire(timeout=0)


def test_an_orm_statement_gives_the_admission_up_before_its_connection() -> None:
    """An ORM execute gives the turn up before checking a connection out (a pre-ping or a
    connect to a silent database can wait for seconds)."""
    admission = Admission(1)
    engine = create_engine("sqlite://")
    checked_out_while_held: list[bool] = []
    event.listen(engine, "checkout", lambda *_: checked_out_while_held.append(admission._held()))
    with admission.admitted(), Session(engine) as session:
        session.execute(text("select 1"))
    assert checked_out_while_held == [False]
    assert admission._free.acquire(timeout=0)


def test_waiting_without_admission_is_a_no_op() -> None:
    admission = Admission(1)
    with admission.waiting():
        pass
    with admission.admitted():
        pass


def test_waiters_are_served_in_arrival_order() -> None:
    """A freed slot goes to the oldest waiter, never to a newcomer (no long tail)."""
    admission = Admission(1)
    order: list[int] = []
    started = []
    with admission.admitted():
        for n in range(5):
            thread = threading.Thread(target=lambda n=n: _enter(admission, order, n))
            thread.start()
            started.append(thread)
            time.sleep(0.05)  # each is queued before the next arrives
    for thread in started:
        thread.join()
    assert order == [0, 1, 2, 3, 4]


def _enter(admission: Admission, order: list[int], n: int) -> None:
    with admission.admitted():
        order.append(n)
