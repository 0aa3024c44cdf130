"""Inbox secure-mode tokens (contract §3) for a logged-in customer or a partner's identifier."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from identity.errors import BadRequest, NotFound
from identity.services.sessions import CustomerSessions
from identity.services.tokens import IssuedToken, TokenService

IDENTIFIER_MAX = 256


@dataclass(frozen=True)
class InboxToken:
    issued: IssuedToken

    def body(self) -> dict[str, Any]:
        return {"token": self.issued.token, "expires_in": self.issued.expires_in}


def _check_identifier(identifier: str) -> None:
    if not 1 <= len(identifier) <= IDENTIFIER_MAX or not identifier.isprintable():
        raise BadRequest(
            "Invalid request", {"identifier": [f"1-{IDENTIFIER_MAX} printable characters."]}
        )


class InboxService:
    def __init__(self, sessions: CustomerSessions, tokens: TokenService) -> None:
        self.sessions = sessions
        self.tokens = tokens

    def __repr__(self) -> str:
        return "InboxService(***)"

    def for_customer(self, customer_token: str, app: str | None = None) -> InboxToken:
        """The inbox token of the customer this customer token names (identifier = customer ID)."""
        claims = self.sessions.authenticate(customer_token)
        return self._issue(str(claims["sub"]), app)

    def for_identifier(self, identifier: str, app: str | None = None) -> InboxToken:
        """An inbox token for a partner's own user identifier."""
        _check_identifier(identifier)
        return self._issue(identifier, app)

    def _issue(self, identifier: str, app: str | None) -> InboxToken:
        if app is not None:
            raise NotFound("No such inbox app")
        return InboxToken(self.tokens.issue_inbox_token(identifier))
