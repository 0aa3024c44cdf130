"""Inbox secure-mode tokens (docs/inbox.md): the whole of both endpoints below the transport.

``POST /inbox/token`` calls ``for_customer`` and ``POST /v1/inbox/tokens`` calls
``for_identifier`` with the strings as received; input rules, app choice, the vendor's format
and the key all live here, and ``InboxToken.body()`` is the response JSON.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from typing import Any

from identity.config import Settings
from identity.crypto.inbox_formats import INBOX_TYP, Issue, claims, sign, signing_key
from identity.crypto.verify import verify
from identity.errors import BadRequest, InvalidToken
from identity.metrics import TOKENS_ISSUED
from identity.services.inbox_apps import InboxApps, ResolvedApp, validate_name
from identity.services.keys import KeyService
from identity.services.sessions import CustomerSessions

IDENTIFIER_MAX = 256
KEY_CACHE_MAX = 64


@dataclass(frozen=True)
class InboxToken:
    token: str
    expires_in: int | None
    app: str
    vendor: str

    def __repr__(self) -> str:
        return f"InboxToken(app={self.app!r}, vendor={self.vendor!r})"

    def body(self) -> dict[str, Any]:
        return {
            "token": self.token,
            "expires_in": self.expires_in,
            "app": self.app,
            "vendor": self.vendor,
        }


def check_identifier(identifier: object) -> str:
    """1-256 printable characters (docs/inbox.md)."""
    if not isinstance(identifier, str):
        raise BadRequest("Invalid identifier", {"identifier": ["Not a valid string."]})
    if not 1 <= len(identifier) <= IDENTIFIER_MAX or not identifier.isprintable():
        raise BadRequest(
            "Invalid identifier",
            {"identifier": [f"1 to {IDENTIFIER_MAX} printable characters."]},
        )
    return identifier


def check_app(app: object) -> str | None:
    return None if app is None else validate_name(app, "app")


class InboxService:
    def __init__(
        self, sessions: CustomerSessions, keys: KeyService, apps: InboxApps, settings: Settings
    ) -> None:
        self.sessions = sessions
        self.keys = keys
        self.apps = apps
        self.settings = settings
        # Loading a PEM costs milliseconds: keep the loaded key per sealed value, so a replaced
        # (or re-sealed) key is loaded again on first use and the old one is never used again.
        self._keys: dict[tuple[str, str], Any] = {}

    def __repr__(self) -> str:
        return "InboxService(***)"

    def for_customer(self, customer_token: str, app: str | None = None) -> InboxToken:
        """The inbox token of the customer this customer token names (identifier = customer ID)."""
        claims_ = self.sessions.authenticate(customer_token)
        return self._issue(str(claims_["sub"]), check_app(app))

    def for_identifier(self, identifier: str, app: str | None = None) -> InboxToken:
        """An inbox token for a partner's own user identifier."""
        return self._issue(check_identifier(identifier), check_app(app))

    def _issue(self, identifier: str, name: str | None) -> InboxToken:
        app = self.apps.resolve(name)
        issue = Issue(
            identifier,
            app.api_key,
            int(time.time()),
            app.lifetime or self.settings.inbox_token_ttl,
            self.settings.inbox_iat_backdate,
        )
        expires_in: int | None
        if app.own_key:
            token, expires_in = self.keys.sign(claims(app.vendor, issue), INBOX_TYP), issue.lifetime
        else:
            token, expires_in = sign(app.vendor, self._signing_key(app), issue)
        TOKENS_ISSUED.labels("inbox").inc()
        return InboxToken(token, expires_in, app.name, app.vendor.name)

    def _signing_key(self, app: ResolvedApp) -> Any:
        cache_key = (app.name, str(app.key_sealed))
        key = self._keys.get(cache_key)
        if key is None:
            if len(self._keys) >= KEY_CACHE_MAX:
                self._keys.clear()
            key = self._keys[cache_key] = signing_key(app.vendor, self.apps.open_key(app))
        return key

    def verify_own_key(self, token: str, app: str | None = None) -> dict[str, Any]:
        """What the vendor checks of an own-key app's token; refuses customer and access tokens
        (they carry ``iss``/``aud`` and other claims)."""
        resolved = self.apps.resolve(check_app(app))
        if not resolved.own_key:
            raise InvalidToken()
        payload = verify(
            token,
            lookup=self.keys.public_key,
            typ=INBOX_TYP,
            issuer=None,  # type: ignore[arg-type]  # inbox tokens carry no iss
            audience=None,
            leeway=self.settings.clock_leeway,
            required=("exp", "iat", "sub"),
        )
        expected = claims(resolved.vendor, Issue("x", resolved.api_key, 0, 0))
        if set(payload) != set(expected):
            raise InvalidToken()
        if "apiKey" in expected and not hmac.compare_digest(
            str(payload["apiKey"]), str(resolved.api_key)
        ):
            raise InvalidToken()
        if resolved.vendor.name == "engagespot" and not str(payload["sub"]).startswith("user:"):
            raise InvalidToken()
        return payload
