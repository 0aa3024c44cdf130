"""The small interfaces the broker needs from storage (implemented in ``identity.storage``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from identity.broker.model import BreakerState, StoredToken

Clock = Callable[[], float]  # epoch seconds; injectable so tests need not sleep


class UpstreamStore(Protocol):
    """Shared token cache level, distributed single-flight lock and circuit-breaker state.

    ``save`` only writes while ``fence`` is still the current lock holder's fencing token,
    so a holder whose lease ran out cannot overwrite a newer token.
    """

    backend: str

    def load(self, name: str) -> StoredToken | None: ...
    def save(self, name: str, record: StoredToken, fence: int, now: float) -> bool: ...
    def invalidate(self, name: str) -> None: ...
    def forget(self, name: str) -> None: ...
    def try_acquire(self, name: str, ttl: float, now: float) -> int | None: ...
    def release(self, name: str, fence: int) -> None: ...
    def breaker(self, name: str) -> BreakerState: ...
    def record_failure(self, name: str, state: BreakerState) -> None: ...
    def clear_failures(self, name: str) -> None: ...
