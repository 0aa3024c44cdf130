"""Inbox secure-mode tokens (contract §3) for a logged-in customer or a partner's identifier."""

from __future__ import annotations

from identity.services.sessions import CustomerSessions
from identity.services.tokens import IssuedToken, TokenService


class InboxService:
    def __init__(self, sessions: CustomerSessions, tokens: TokenService) -> None:
        self.sessions = sessions
        self.tokens = tokens

    def __repr__(self) -> str:
        return "InboxService(***)"

    def for_customer(self, customer_token: str) -> IssuedToken:
        """The inbox token of the customer this customer token names (identifier = customer ID)."""
        claims = self.sessions.authenticate(customer_token)
        return self.tokens.issue_inbox_token(str(claims["sub"]))

    def for_identifier(self, identifier: str) -> IssuedToken:
        """An inbox token for a partner's own user identifier."""
        return self.tokens.issue_inbox_token(identifier)
