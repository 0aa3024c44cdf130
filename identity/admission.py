"""Admission: how many requests of one worker process run Python at the same time.

Signing is CPU-bound and holds the GIL. With dozens of runnable threads every request is
interleaved with every other (a convoy): latency grows with the thread count and switching
costs throughput. A worker keeps many blocking threads, so a request that waits on an upstream
or the database never stalls the others, but only ``slots`` of them are *admitted* at a time.
A request gives its admission back while it waits on an upstream (``waiting()``: the broker's
and the Exchange's calls) and queues for it again afterwards, in arrival order; before a
database statement (or a flush or commit) it gives it up for the rest of the request. The
measurements behind the default are in docs/benchmarks.md.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

_ADMITTED: ContextVar[Admission | None] = ContextVar("admitted", default=None)


class FairSlots:
    """A semaphore that serves waiters in arrival order: a freed slot is handed to the oldest
    waiter, never taken by a newcomer (``threading.Semaphore`` lets one barge in, and a waiter
    it overtakes queues again at the back: a long latency tail under load)."""

    def __init__(self, slots: int) -> None:
        self._free = slots
        self._waiters: deque[threading.Lock] = deque()
        self._lock = threading.Lock()

    def acquire(self, timeout: float = -1) -> bool:
        with self._lock:
            if self._free > 0 and not self._waiters:
                self._free -= 1
                return True
            waiter = threading.Lock()
            waiter.acquire()
            self._waiters.append(waiter)
        if waiter.acquire(timeout=timeout):
            return True  # handed over by release()
        with self._lock:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
                return False
        return True  # handed over between the time-out and the lock

    def release(self) -> None:
        with self._lock:
            if self._waiters:
                self._waiters.popleft().release()  # the slot passes on; _free stays as it is
            else:
                self._free += 1


class Admission:
    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._free = FairSlots(slots)
        self._state = threading.local()  # .held: this thread holds an admission

    def __repr__(self) -> str:
        return f"Admission(slots={self.slots})"

    def _held(self) -> bool:
        return bool(getattr(self._state, "held", False))

    @contextmanager
    def admitted(self) -> Iterator[None]:
        """Run the body holding one admission (until it gives it up)."""
        self._free.acquire()
        self._state.held = True
        token = _ADMITTED.set(self)
        try:
            yield
        finally:
            _ADMITTED.reset(token)
            if self._held():
                self._state.held = False
                self._free.release()

    @contextmanager
    def waiting(self) -> Iterator[None]:
        """Give the admission back for a blocking wait (nested waits give it back once)."""
        self._enter_wait()
        try:
            yield
        finally:
            self._leave_wait()

    def _enter_wait(self) -> None:
        state = self._state
        state.waits = getattr(state, "waits", 0) + 1
        if state.waits == 1 and self._held():
            state.held = False
            state.returned = True
            self._free.release()

    def _leave_wait(self) -> None:
        state = self._state
        state.waits -= 1
        if state.waits == 0 and getattr(state, "returned", False):
            state.returned = False
            self._free.acquire()
            state.held = True

    def _give_up(self) -> None:
        if self._held() and not getattr(self._state, "waits", 0):
            self._state.held = False
            self._free.release()


def _give_up(*_: Any) -> None:
    """Before anything that may wait on the database (a slow or silent one must not hold a
    turn), the request gives its admission up and runs unadmitted from then on: taking it back
    could deadlock against a lock the request holds around its statements (the key ring's, say).
    Hot paths rarely touch the database (their reads are cached)."""
    admission = _ADMITTED.get()
    if admission is not None:
        admission._give_up()


# An ORM statement, a flush or a commit may first check a connection out (a pre-ping, a
# connect); a bare engine statement may wait too. Registered once: the admission a thread
# holds is found through _ADMITTED, so any number of apps share these listeners.
for _name in ("do_orm_execute", "before_flush", "before_commit"):
    event.listen(Session, _name, _give_up)
event.listen(Engine, "before_cursor_execute", _give_up)
