"""Brute-force protection for customer logins: failures counted per username and per address.

Counters live in shared state (Redis when configured, so every worker and instance sees the
same count; in-process otherwise). Once either count reaches its limit, every attempt is
refused with 429 until the window ends, even one with the right password.
"""

from __future__ import annotations

from identity.config import Settings
from identity.crypto.hashing import hash_secret
from identity.errors import TooManyRequests
from identity.storage.shared import SharedState

USER_NS = "login-fail-user"
ADDRESS_NS = "login-fail-addr"


class LoginThrottle:
    def __init__(self, shared: SharedState, settings: Settings) -> None:
        self.shared = shared
        self.settings = settings

    def __repr__(self) -> str:
        return "LoginThrottle(***)"

    def _user_key(self, normalised_username: str) -> str:
        # Keyed hash: counter keys in Redis carry no username (PII) and have a bounded length.
        return hash_secret(normalised_username, self.settings.hash_pepper)[:32]

    def check(self, normalised_username: str, address: str) -> None:
        """Raise 429 (with the seconds left in the window) while either limit is reached."""
        limits = (
            (USER_NS, self._user_key(normalised_username), self.settings.login_max_failures),
            (ADDRESS_NS, address, self.settings.login_max_failures_per_address),
        )
        for namespace, key, limit in limits:
            count, retry_after = self.shared.count(namespace, key)
            if count >= limit:
                raise TooManyRequests("Too many failed logins; try again later", retry_after)

    def failed(self, normalised_username: str, address: str) -> None:
        window = self.settings.login_window
        self.shared.hit(USER_NS, self._user_key(normalised_username), window)
        self.shared.hit(ADDRESS_NS, address, window)

    def succeeded(self, normalised_username: str) -> None:
        """Forget the username's failures (never the address's: one good account must not
        reset the count of an address trying many others)."""
        self.shared.reset(USER_NS, self._user_key(normalised_username))
