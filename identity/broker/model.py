"""Plain values the broker works with: connections, tokens, the refresh and backoff policy."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

METHODS = ("ibsso", "oauth2", "exchange", "api_key", "basic")
FETCHED = ("ibsso", "oauth2")  # methods that make an upstream call
IBSSO = "IBSSO"  # noqa: S105 - a token type, not a password


@dataclass(frozen=True)
class ConnectionSpec:
    """A connection with its credentials opened; lives only for one upstream call."""

    name: str
    method: str
    base_url: str
    username: str | None = None
    client_id: str | None = None
    secret: str = field(default="", repr=False)
    lifetime: int | None = None
    connect_timeout: float | None = None
    read_timeout: float | None = None


@dataclass(frozen=True)
class Token:
    """An upstream credential ready to use as ``Authorization: <token_type> <value>``."""

    token_type: str
    value: str = field(repr=False)
    obtained_at: float
    expires_at: float | None  # None: never expires (api_key, basic)
    refresh_at: float

    @property
    def is_session(self) -> bool:
        """An IBSSO session: refreshing it destroys the old one first."""
        return self.token_type == IBSSO

    @property
    def header(self) -> str:
        return f"{self.token_type} {self.value}"

    def usable(self, now: float) -> bool:
        return self.expires_at is None or now < self.expires_at - grace(self)

    def fresh(self, now: float) -> bool:
        return now < self.refresh_at and self.usable(now)


@dataclass(frozen=True)
class StoredToken:
    """The shared level's record: the header sealed (SecretBox), times in epoch seconds."""

    sealed: str = field(repr=False)
    obtained_at: float
    expires_at: float
    refresh_at: float
    invalid: bool = False  # invalidated by a caller: never served, destroyed (IBSSO) first

    def usable(self, now: float) -> bool:
        return not self.invalid and now < self.expires_at - grace(self)

    def fresh(self, now: float) -> bool:
        return now < self.refresh_at and self.usable(now)


def grace(token: Token | StoredToken) -> float:
    """Time a caller needs to use a token: one this close to expiry is never handed out."""
    if token.expires_at is None:
        return 0.0
    return min(5.0, (token.expires_at - token.obtained_at) / 10)


@dataclass(frozen=True)
class BreakerState:
    failures: int = 0
    retry_at: float | None = None
    kind: str | None = None  # "unauthorized" | "unavailable" when the store remembers it


@dataclass(frozen=True)
class BrokerPolicy:
    """Settings values the broker needs (from ``identity.config``)."""

    refresh_fraction: float = 0.8
    refresh_margin: float = 300.0
    jitter: float = 0.05
    default_lifetime: int = 3600
    ibsso_lifetime: int = 3600
    max_lifetime: int = 86400  # a longer upstream lifetime is clamped (absurd expires_in)
    max_retry_after: int = 3600  # a longer upstream Retry-After is clamped
    lock_timeout: float = 15.0
    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    local_ttl: float = 5.0
    static_ttl: float = 30.0  # in-process life of api_key/basic/exchange headers

    def refresh_at(self, obtained: float, lifetime: float, rng: random.Random) -> float:
        """min(obtained + fraction × lifetime, expires − margin) − jitter, never before half-life.

        The margin is skipped when it would land before the half-life (short-lived tokens),
        so a 60 s token is not refreshed on every read.
        """
        by_fraction = obtained + self.refresh_fraction * lifetime
        by_margin = obtained + lifetime - self.refresh_margin
        target = min(by_fraction, by_margin) if by_margin > obtained + lifetime / 2 else by_fraction
        return target - rng.uniform(0, self.jitter) * lifetime

    def lifetime(self, seconds: float) -> float:
        """An upstream lifetime, clamped to ``max_lifetime`` (10^12 s would overflow dates)."""
        return min(seconds, float(self.max_lifetime))

    def backoff(self, failures: int) -> float:
        """Exponential backoff after ``failures`` consecutive failures: base × 2^(n−1), capped."""
        return float(min(self.backoff_max, self.backoff_base * 2 ** max(0, failures - 1)))
