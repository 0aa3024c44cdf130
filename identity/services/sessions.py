"""Customer sessions: login, refresh up to an absolute limit, logout (docs/customers-and-inbox.md).

A login opens a ``customer_sessions`` row whose ``expires_at`` is the absolute limit; every
customer token carries its session id as ``sid``. Refresh is single use per token: it issues
a token with a new ``jti`` and the same ``sid`` (never past the limit) and denies the old one.
Logout denies the token and ends the session. Each session's live ``jti`` is kept in shared
state, so ending a session (disable, password change) denies its live token at once while a
token's own check stays one denylist lookup (``/inbox/token`` is a hot path).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from identity.config import Settings
from identity.errors import InvalidToken, Unauthorized
from identity.models import Customer, CustomerSession
from identity.models.base import db
from identity.models.types import utcnow
from identity.services.customers import CustomerService, normalise_username
from identity.services.throttle import LoginThrottle
from identity.services.tokens import IssuedToken, TokenService
from identity.storage.shared import SharedState

REFRESHED_NS = "customer-refreshed"
LIVE_JTI_NS = "customer-session-jti"


def live_ttl(settings: Settings) -> int:
    """How long a session's live ``jti`` is worth remembering (token lifetime plus leeway)."""
    return settings.customer_token_ttl + settings.clock_leeway


class SessionEnder:
    """Ends every open session of a customer and denies their live tokens (no commit).

    ``CustomerService`` calls it on disable and password change."""

    def __init__(self, tokens: TokenService, shared: SharedState, settings: Settings) -> None:
        self.tokens = tokens
        self.shared = shared
        self.settings = settings

    def __repr__(self) -> str:
        return "SessionEnder(***)"

    def __call__(self, customer: Customer) -> None:
        now = utcnow()
        sessions = db.session.scalars(
            select(CustomerSession)
            .where(CustomerSession.customer_pk == customer.id)
            .where(CustomerSession.revoked_at.is_(None))
            .where(CustomerSession.expires_at > now)
        ).all()
        for session in sessions:
            session.revoked_at = now
            jti = self.shared.get(LIVE_JTI_NS, session.id)
            if jti:
                until = now + timedelta(seconds=live_ttl(self.settings))
                self.tokens.revoke({"jti": jti, "exp": int(until.timestamp())})


@dataclass(frozen=True)
class CustomerLogin:
    token: IssuedToken
    customer_id: str

    def __repr__(self) -> str:
        return f"CustomerLogin(customer_id={self.customer_id!r})"


class CustomerSessions:
    def __init__(
        self,
        customers: CustomerService,
        tokens: TokenService,
        throttle: LoginThrottle,
        shared: SharedState,
        settings: Settings,
    ) -> None:
        self.customers = customers
        self.tokens = tokens
        self.throttle = throttle
        self.shared = shared
        self.settings = settings

    def __repr__(self) -> str:
        return "CustomerSessions(***)"

    def login(self, username: str, password: str, address: str) -> CustomerLogin:
        """Check the throttle, then the password; one 401 text for every failure."""
        normalised = normalise_username(username)
        self.throttle.check(normalised, address)
        customer = self.customers.authenticate(username, password)
        if customer is None:
            self.throttle.failed(normalised, address)
            raise Unauthorized("Invalid login details")
        self.throttle.succeeded(normalised)
        session = CustomerSession(
            id=secrets.token_urlsafe(24),
            customer_pk=customer.id,
            expires_at=utcnow() + timedelta(seconds=self.settings.customer_session_max),
        )
        db.session.add(session)
        db.session.commit()
        return self._issue(self._customer_id(customer), session)

    def authenticate(self, token: str) -> dict[str, Any]:
        """Claims of a valid, not denied customer token of a session (ended sessions deny it)."""
        claims = self.tokens.verify_customer_token(token)
        if not isinstance(claims.get("sid"), str):
            raise InvalidToken()
        return claims

    def refresh(self, token: str) -> CustomerLogin:
        """A new token for the same session, once per token, until the absolute limit."""
        claims = self.tokens.verify_customer_token(token)
        session = self._open_session(claims)
        remaining = int(claims["exp"]) + self.settings.clock_leeway - int(utcnow().timestamp())
        if not self.shared.add_once(REFRESHED_NS, str(claims["jti"]), max(1, remaining)):
            raise InvalidToken()  # already refreshed: only one successor per token
        self._deny(claims)
        return self._issue(str(claims["sub"]), session)

    def logout(self, token: str) -> None:
        """Deny this token and end its session."""
        claims = self.authenticate(token)
        self._deny(claims)
        session = db.session.get(CustomerSession, claims["sid"])
        if session is not None and session.revoked_at is None:
            session.revoked_at = utcnow()
            db.session.commit()

    def _deny(self, claims: dict[str, Any]) -> None:
        """Denylist the token until it no longer verifies (``revoke`` adds the leeway)."""
        self.tokens.revoke(claims)

    def _open_session(self, claims: dict[str, Any]) -> CustomerSession:
        sid = claims.get("sid")
        session = db.session.get(CustomerSession, sid) if isinstance(sid, str) else None
        if session is None or session.revoked_at is not None or session.expires_at <= utcnow():
            raise InvalidToken("Session expired or ended")
        return session

    def _issue(self, customer_id: str, session: CustomerSession) -> CustomerLogin:
        """A customer token bound to ``session``, never outliving its absolute limit."""
        now = int(utcnow().timestamp())
        end = int(session.expires_at.timestamp())
        exp = min(now + self.settings.customer_token_ttl, end)
        if exp <= now:
            raise InvalidToken("Session expired or ended")
        # iat from the same clock reading as exp: exp - iat is exactly the granted lifetime.
        claims = {"sid": session.id, "iat": now, "exp": exp}
        issued = self.tokens.issue_customer_token(customer_id, claims)
        self.shared.set(LIVE_JTI_NS, session.id, str(issued.claims["jti"]), live_ttl(self.settings))
        return CustomerLogin(IssuedToken(issued.token, issued.claims, exp - now), customer_id)

    def _customer_id(self, customer: Customer) -> str:
        return customer.customer_id or self.customers.customer_id_for(customer.id)
