"""Token formats we issue and accept, each with its own ``typ`` and ``aud`` (RFC 8725 §3.11-12).

    access token    typ at+jwt   aud <an API's audience>   RFC 9068, client credentials
    customer token  typ JWT      aud <customer audience>   docs/customers-and-inbox.md
    inbox token     typ JWT      no iss/aud                docs/inbox.md (identity.services.inbox)

A token of one kind never verifies as another: the typ or the audience differs.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from identity.config import Settings
from identity.crypto.keys import RS256
from identity.errors import InvalidToken
from identity.metrics import TOKENS_ISSUED
from identity.services.keys import KeyService
from identity.services.token_cache import RevocationCache, VerifiedTokens
from identity.storage.shared import SharedState

ACCESS_TYP = "at+jwt"
CUSTOMER_TYP = "JWT"


def new_jti() -> str:
    return secrets.token_urlsafe(16)


@dataclass(frozen=True)
class IssuedToken:
    token: str
    claims: dict[str, Any]
    expires_in: int

    def __repr__(self) -> str:
        return f"IssuedToken(jti={self.claims.get('jti')!r}, expires_in={self.expires_in})"


class TokenService:
    def __init__(
        self,
        keys: KeyService,
        settings: Settings,
        shared: SharedState,
        audiences: Callable[[], Collection[str]] | None = None,
    ) -> None:
        self.keys = keys
        self.settings = settings
        self.shared = shared
        # Every registered API's audience (identity.services.apis): access tokens for any of
        # them introspect; our own endpoints take only the built-in audience.
        self._audiences = audiences or (lambda: (settings.access_audience,))
        # Hot path: an RS256 verification and a shared-store round trip per request would be
        # most of a cached broker read; both answers are cached briefly in-process.
        self._verified = VerifiedTokens(settings.clock_leeway)
        stamp = getattr(shared, "stamp", None)  # SQLite: revocations announce themselves
        self._revocations = RevocationCache(
            shared.is_revoked,
            settings.revocation_check_seconds,
            version=stamp.version if stamp is not None else None,
        )

    def _verify_cached(
        self, token: str, typ: str, audiences: Collection[str], fresh: bool
    ) -> dict[str, Any]:
        """Verify (or recall a verification of) ``token``, then check the revocation list;
        its ``aud`` must be one of ``audiences`` (a single string, RFC 7519 §4.1.3)."""
        entry = self._verified.get(token)
        if entry is None or entry[0] != typ or entry[1].get("aud") not in audiences:
            claims = self.keys.verify(token, typ=typ, issuer=self.settings.issuer, audience=None)
            if claims.get("aud") not in audiences:
                raise InvalidToken()
            if not isinstance(claims.get("sub"), str) or not isinstance(claims.get("jti"), str):
                raise InvalidToken()
            entry = (typ, claims)
            self._verified.put(token, typ, claims)
        if self._revocations.is_revoked(entry[1]["jti"], fresh=fresh):
            raise InvalidToken()
        return dict(entry[1])  # a copy: callers must not change the cached claims

    # --- access tokens (RFC 9068) ------------------------------------------------------------
    def issue_access_token(
        self,
        client_id: str,
        scope: str,
        lifetime: int | None = None,
        audience: str | None = None,
        alg: str = RS256,
    ) -> IssuedToken:
        """RFC 9068 §2.2 claims: iss, exp, aud, sub, client_id, iat, jti (+ scope), signed
        with the API's algorithm; ``audience`` defaults to this service's (the built-in API)."""
        ttl = min(lifetime or self.settings.access_token_ttl, self.settings.max_token_ttl)
        now = int(time.time())
        claims = {
            "iss": self.settings.issuer,
            "sub": client_id,
            "client_id": client_id,
            "aud": audience or self.settings.access_audience,
            "scope": scope,
            "iat": now,
            "exp": now + ttl,
            "jti": new_jti(),
        }
        token = self.keys.sign(claims, ACCESS_TYP, alg)
        TOKENS_ISSUED.labels("access").inc()
        return IssuedToken(token, claims, ttl)

    def verify_access_token(
        self, token: str, fresh: bool = False, audience: str | None = None
    ) -> dict[str, Any]:
        """RFC 9068 §4 validation, plus our revocation list (``fresh``: ask the shared store
        now, as introspection does, instead of trusting a recent "not revoked"). ``aud`` must
        be ``audience``, or, when None, any registered API's audience (introspection)."""
        audiences = (audience,) if audience is not None else self._audiences()
        claims = self._verify_cached(token, ACCESS_TYP, audiences, fresh)
        if not isinstance(claims.get("client_id"), str):
            raise InvalidToken()
        return claims

    def revoke(self, claims: dict[str, Any]) -> None:
        """Deny this token's ``jti`` until it would have expired anyway, leeway included
        (verification still accepts a token ``clock_leeway`` seconds past ``exp``)."""
        expires_at = datetime.fromtimestamp(int(claims["exp"]) + self.settings.clock_leeway, UTC)
        self.shared.revoke(str(claims["jti"]), expires_at)
        self._revocations.mark_revoked(str(claims["jti"]))

    # --- customer tokens (docs/customers-and-inbox.md) -----------------------------------------
    def issue_customer_token(
        self, customer_id: str, extra: dict[str, Any] | None = None
    ) -> IssuedToken:
        now = int(time.time())
        ttl = self.settings.customer_token_ttl
        claims = {
            "iss": self.settings.issuer,
            "sub": customer_id,
            "aud": self.settings.customer_audience,
            "iat": now,
            "exp": now + ttl,
            "jti": new_jti(),
            **(extra or {}),
        }
        token = self.keys.sign(claims, CUSTOMER_TYP)
        TOKENS_ISSUED.labels("customer").inc()
        return IssuedToken(token, claims, ttl)

    def verify_customer_token(self, token: str) -> dict[str, Any]:
        # Logout must refuse the token "from then on" (docs/customers-and-inbox.md) on every
        # worker and instance: customer tokens ask the shared revocation list on every use.
        return self._verify_cached(token, CUSTOMER_TYP, (self.settings.customer_audience,), True)
