"""Optional (IDENTITY_REUSE_ACCESS_TOKENS): hand a client asking again for the same scopes the
token it already holds, while more than half its lifetime remains. Off by default."""

from __future__ import annotations

import threading
import time

from identity.services.tokens import IssuedToken, TokenService

Key = tuple[str, str, str, str]  # client_id, secret hash (a rotation mints anew), aud, scope


class TokenReuse:
    """Per-process cache of issued tokens; revoked ones are never handed out again."""

    def __init__(self, tokens: TokenService, max_entries: int = 10_000) -> None:
        self._tokens = tokens
        self._max = max_entries
        self._issued: dict[Key, IssuedToken] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TokenReuse({len(self._issued)} tokens)"

    def get(self, key: Key) -> IssuedToken | None:
        """A still-fresh, unrevoked token for ``key`` with ``expires_in`` as what remains."""
        issued = self._issued.get(key)
        if issued is None:
            return None
        remaining = int(issued.claims["exp"]) - int(time.time())
        if remaining * 2 < issued.expires_in or self._tokens.shared.is_revoked(
            str(issued.claims["jti"])
        ):
            with self._lock:
                self._issued.pop(key, None)
            return None
        return IssuedToken(issued.token, issued.claims, remaining)

    def put(self, key: Key, issued: IssuedToken) -> None:
        with self._lock:
            if len(self._issued) >= self._max:
                self._issued.clear()
            self._issued[key] = issued
