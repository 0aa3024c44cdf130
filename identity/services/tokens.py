"""Token formats we issue and accept, each with its own ``typ`` and ``aud`` (RFC 8725 §3.11-12).

    access token    typ at+jwt   aud <access audience>     RFC 9068, client credentials
    customer token  typ JWT      aud <customer audience>   contract §2
    inbox token     typ JWT      no iss/aud                contract §3 (identity.services.inbox)

A token of one kind never verifies as another: the typ or the audience differs.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from identity.config import Settings
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
    def __init__(self, keys: KeyService, settings: Settings, shared: SharedState) -> None:
        self.keys = keys
        self.settings = settings
        self.shared = shared
        # Hot path: an RS256 verification and a shared-store round trip per request would be
        # most of a cached broker read; both answers are cached briefly in-process.
        self._verified = VerifiedTokens(settings.clock_leeway)
        stamp = getattr(shared, "stamp", None)  # SQLite: revocations announce themselves
        self._revocations = RevocationCache(
            shared.is_revoked,
            settings.revocation_check_seconds,
            version=stamp.version if stamp is not None else None,
        )

    def _verify_cached(self, token: str, typ: str, audience: str, fresh: bool) -> dict[str, Any]:
        """Verify (or recall a verification of) ``token``, then check the revocation list."""
        entry = self._verified.get(token)
        if entry is None or entry[0] != typ or entry[1].get("aud") != audience:
            claims = self.keys.verify(
                token, typ=typ, issuer=self.settings.issuer, audience=audience
            )
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
        alg: str = "RS256",
    ) -> IssuedToken:
        """RFC 9068 §2.2 claims: iss, exp, aud, sub, client_id, iat, jti (+ scope)."""
        if alg != "RS256":
            raise ValueError(f"no {alg} signing key in the key ring")
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
        token = self.keys.sign(claims, ACCESS_TYP)
        TOKENS_ISSUED.labels("access").inc()
        return IssuedToken(token, claims, ttl)

    def verify_access_token(self, token: str, fresh: bool = False) -> dict[str, Any]:
        """RFC 9068 §4 validation, plus our revocation list (``fresh``: ask the shared store
        now, as introspection does, instead of trusting a recent "not revoked")."""
        claims = self._verify_cached(token, ACCESS_TYP, self.settings.access_audience, fresh)
        if not isinstance(claims.get("client_id"), str):
            raise InvalidToken()
        return claims

    def revoke(self, claims: dict[str, Any]) -> None:
        """Deny this token's ``jti`` until it would have expired anyway, leeway included
        (verification still accepts a token ``clock_leeway`` seconds past ``exp``)."""
        expires_at = datetime.fromtimestamp(int(claims["exp"]) + self.settings.clock_leeway, UTC)
        self.shared.revoke(str(claims["jti"]), expires_at)
        self._revocations.mark_revoked(str(claims["jti"]))

    # --- customer tokens (contract §2) -------------------------------------------------------
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
        # Logout must refuse the token "from then on" (contract §2) on every worker and
        # instance: customer tokens ask the shared revocation list on every use.
        return self._verify_cached(token, CUSTOMER_TYP, self.settings.customer_audience, True)
