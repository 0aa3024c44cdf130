"""Infobip Exchange: the authorization-code + PKCE flow, connected accounts, app settings.

The flow (RFC 6749 §4.1 with RFC 7636 PKCE S256, as Exchange documents it):
``start`` stores a single-use state bound to the browser with its sealed code verifier and
returns the authorize URL; ``complete`` consumes the state, exchanges the code at once (codes
live one minute) and stores the token sealed per account, as that account's ``exchange``
upstream connection for the broker.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from identity.admission import Admission
from identity.config import Settings
from identity.crypto.secretbox import SecretBox
from identity.errors import IdentityError, NotFound
from identity.models import (
    AppSetting,
    Customer,
    ExchangeAccount,
    InboundMessage,
    OAuthState,
    UpstreamConnection,
)
from identity.models.base import db

log = logging.getLogger(__name__)

STATE_TTL = 600  # seconds a started authorization may take
# The portal's state, as it sends it (Infobip's own example is ``state=xyz``): URL-safe
# (RFC 3986 §2.3 unreserved), bounded. Its strength does not matter: it is bound to the
# browser that started the flow and used once (RFC 6749 §10.12).
_STATE = re.compile(r"^[A-Za-z0-9._~-]{1,128}$")
_ACCOUNT_KEY = re.compile(r"^[A-Fa-f0-9]{1,64}$")


class FlowError(IdentityError):
    """The authorization did not complete; ``reason`` is a stable code shown on the page."""

    message_id = "BAD_REQUEST"

    def __init__(self, reason: str, text: str, status: int = 400) -> None:
        super().__init__(text)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class SettingField:
    name: str
    label: str
    secret: bool = False
    max_length: int = 500


# The account's app settings shown on the configuration page (our choice; docs/exchange.md).
SETTING_FIELDS = (
    SettingField("sender", "Default sender ID", max_length=64),
    SettingField("notify_url", "Notification URL", max_length=500),
    SettingField("partner_api_key", "Partner API key", secret=True, max_length=500),
)


@dataclass(frozen=True)
class SettingView:
    field: SettingField
    value: str  # empty for secret fields: they are never echoed back
    is_set: bool


def _now() -> datetime:
    return datetime.now(UTC)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def connection_name(account_key: str) -> str:
    """The broker connection serving this account's Exchange token."""
    return f"exchange-{account_key.lower()}"


class ExchangeService:
    def __init__(self, settings: Settings, admission: Admission) -> None:
        self.settings = settings
        self.box = SecretBox(settings.encryption_keys)
        self.admission = admission

    def __repr__(self) -> str:
        return "ExchangeService(***)"

    # --- the authorization flow ---------------------------------------------------------------
    def start(self, browser_id: str, state: str | None = None) -> str:
        """Record a single-use state for this browser; return the authorize URL (RFC 7636)."""
        if state is not None and not _STATE.match(state):
            raise FlowError("bad_state", "The state parameter is malformed")
        state = state or secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)  # RFC 7636 §4.1: 43-128 unreserved characters
        self._store_state(state, browser_id, verifier)
        s = self.settings
        return str(
            prepare_grant_uri(
                f"{s.exchange_base_url}/exchange/1/oauth/authorize",
                client_id=s.exchange_client_id,
                response_type="code",
                redirect_uri=s.exchange_redirect_uri,
                scope=s.exchange_scope,
                state=state,
                code_challenge=create_s256_code_challenge(verifier),  # RFC 7636 §4.2
                code_challenge_method="S256",
            )
        )

    def _store_state(self, state: str, browser_id: str, verifier: str) -> None:
        key = _digest(state)
        db.session.execute(delete(OAuthState).where(OAuthState.expires_at < _now()))
        existing = db.session.get(OAuthState, key)
        if existing is not None and existing.used_at is not None:
            raise FlowError("state_used", "This authorization was already completed")
        if existing is not None:
            db.session.delete(existing)  # the same iframe state started again: newest wins
            db.session.flush()
        db.session.add(
            OAuthState(
                state_hash=key,
                browser_hash=_digest(browser_id),
                verifier_sealed=self.box.seal(verifier),
                expires_at=_now() + timedelta(seconds=STATE_TTL),
            )
        )
        try:
            db.session.commit()
        except IntegrityError:  # the same state started twice at once
            db.session.rollback()
            raise FlowError(
                "bad_state", "This authorization was started twice; try again"
            ) from None

    def consume_state(self, state: str | None, browser_id: str | None) -> str:
        """Check and burn the state (RFC 6749 §10.12); return the code verifier."""
        row = db.session.get(OAuthState, _digest(state)) if state else None
        if row is None or row.expires_at <= _now():
            raise FlowError("bad_state", "This authorization is unknown or has expired")
        if row.used_at is not None:
            raise FlowError("state_used", "This authorization was already completed")
        if not browser_id or not hmac.compare_digest(row.browser_hash, _digest(browser_id)):
            raise FlowError("foreign_state", "This authorization was started in another browser")
        burned = db.session.execute(
            update(OAuthState)
            .where(OAuthState.state_hash == row.state_hash, OAuthState.used_at.is_(None))
            .values(used_at=_now())
        )
        db.session.commit()
        if burned.rowcount != 1:  # type: ignore[attr-defined]
            raise FlowError("state_used", "This authorization was already completed")
        return self.box.open(row.verifier_sealed)

    def deny(self, state: str | None, browser_id: str | None, error: str) -> FlowError:
        """The authorization server refused (RFC 6749 §4.1.2.1): burn the state, say why."""
        with contextlib.suppress(FlowError):  # the refusal is what we report either way
            self.consume_state(state, browser_id)
        if error == "access_denied":
            return FlowError("access_denied", "Access was denied on Infobip", status=403)
        return FlowError("authorization_error", "Infobip could not authorize the app")

    def complete(self, code: str | None, state: str | None, browser_id: str | None) -> Any:
        """Consume the state, exchange the code, store the account; return it."""
        if not code or len(code) > 128:
            raise FlowError("bad_request", "The authorization code is missing")
        verifier = self.consume_state(state, browser_id)
        document = self._exchange_code(code, verifier)
        try:
            return self._store_account(document)
        except IntegrityError:  # the same account connected at once elsewhere: update theirs
            db.session.rollback()
            return self._store_account(document)

    def _exchange_code(self, code: str, verifier: str) -> dict[str, Any]:
        """POST the token request at once (Exchange codes expire after a minute)."""
        s = self.settings
        form = {
            "client_id": s.exchange_client_id,
            "code": code,
            "redirect_uri": s.exchange_redirect_uri,
            "grant_type": "authorization_code",
            "code_verifier": verifier,  # RFC 7636 §4.5, sent even by confidential clients
        }
        if s.exchange_client_secret:
            form["client_secret"] = s.exchange_client_secret  # client_secret_post
        timeout = httpx.Timeout(s.broker_read_timeout, connect=s.broker_connect_timeout)
        try:
            with self.admission.waiting():
                response = httpx.post(
                    f"{s.exchange_base_url}/exchange/1/oauth/token",
                    data=form,
                    headers={"Accept": "application/json"},
                    timeout=timeout,
                )
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("exchange token request failed: %s", type(exc).__name__)
            raise _unavailable() from None
        return _token_document(response.status_code, document)

    def _store_account(self, doc: dict[str, Any]) -> ExchangeAccount:
        account_key = doc["accountKey"]
        account = db.session.get(ExchangeAccount, account_key) or ExchangeAccount(
            account_key=account_key
        )
        account.user_key = doc["userKey"]
        account.username = doc["username"]
        account.email = doc.get("email")
        account.locale = doc.get("locale")
        account.roles = list(doc.get("roles") or [])
        account.groups = list(doc.get("groups") or [])
        account.token_type = doc.get("tokenType") or "IBSSO"
        account.token_sealed = self.box.seal(doc["token"])
        account.connected_at = now = _now()
        account.expires_at = now + timedelta(seconds=self.settings.exchange_token_lifetime)
        db.session.add(account)
        self._upsert_connection(account_key)
        db.session.commit()
        return account

    def _upsert_connection(self, account_key: str) -> None:
        name = connection_name(account_key)
        connection = db.session.scalar(
            select(UpstreamConnection).where(UpstreamConnection.name == name)
        ) or UpstreamConnection(name=name)
        connection.method = "exchange"
        connection.base_url = self.settings.exchange_base_url
        connection.account_key = account_key
        db.session.add(connection)

    # --- accounts and app settings ------------------------------------------------------------
    def account(self, account_key: str) -> ExchangeAccount | None:
        return db.session.get(ExchangeAccount, account_key)

    def app_settings(self, account_key: str) -> list[SettingView]:
        stored = {
            row.name: row
            for row in db.session.scalars(
                select(AppSetting).where(AppSetting.account_key == account_key)
            )
        }
        views = []
        for field in SETTING_FIELDS:
            row = stored.get(field.name)
            value = "" if row is None or field.secret else row.value
            views.append(SettingView(field, value, row is not None))
        return views

    def secret_setting(self, account_key: str, name: str) -> str | None:
        """A secret app setting in clear, for the app's own upstream calls."""
        row = db.session.get(AppSetting, (account_key, name))
        return self.box.open(row.value) if row is not None and row.is_secret else None

    def save_settings(self, account_key: str, values: dict[str, str]) -> None:
        """Store the submitted settings; a blank secret field keeps the stored secret."""
        errors = {
            f.name: [f"at most {f.max_length} characters"]
            for f in SETTING_FIELDS
            if len(values.get(f.name, "")) > f.max_length
        }
        if errors:
            raise FlowError("invalid_settings", "Some settings are too long")
        for field in SETTING_FIELDS:
            self._save_one(account_key, field, values.get(field.name, "").strip())
        db.session.commit()

    def _save_one(self, account_key: str, field: SettingField, value: str) -> None:
        row = db.session.get(AppSetting, (account_key, field.name))
        if not value:
            if row is not None and not field.secret:
                db.session.delete(row)
            return
        row = row or AppSetting(account_key=account_key, name=field.name)
        row.value = self.box.seal(value) if field.secret else value
        row.is_secret = field.secret
        row.updated_at = _now()
        db.session.add(row)

    # --- calls Exchange and channel adapters make ----------------------------------------------
    def customer_id_for_email(self, email: str) -> str:
        """The opaque customer ID of the (enabled) customer with this email, case-insensitively."""
        customer = db.session.scalar(
            select(Customer)
            .where(func.lower(Customer.email) == email.strip().lower())
            .where(Customer.disabled.is_(False))
            .order_by(Customer.id)
            .limit(1)
        )
        if customer is None or customer.customer_id is None:
            raise NotFound("No customer with this email")
        return customer.customer_id

    def record_inbound(self, source: str, sender: str | None, body: str) -> InboundMessage:
        message = InboundMessage(source=source, sender=sender, body=body)
        db.session.add(message)
        db.session.commit()
        return message


def _unavailable() -> FlowError:
    return FlowError("upstream_unavailable", "Infobip could not be reached; try again", 502)


def _token_document(status: int, doc: Any) -> dict[str, Any]:
    """The documented token response (RFC 6749 §5.1/§5.2), or a FlowError: never half stored."""
    if isinstance(doc, dict) and status < 500 and isinstance(doc.get("error"), str):
        log.warning("exchange token request refused: %.40s", doc["error"])
        raise FlowError("code_rejected", "Infobip refused the authorization code")
    if status != 200 or not isinstance(doc, dict):
        log.warning("exchange token request failed: HTTP %s", status)
        raise _unavailable()
    required = ("token", "accountKey", "userKey", "username")
    if not all(isinstance(doc.get(k), str) and doc[k] for k in required) or not (
        _ACCOUNT_KEY.match(doc["accountKey"])
    ):
        log.warning("exchange token response malformed")
        raise FlowError("upstream_malformed", "Infobip answered unexpectedly", status=502)
    for listed in ("roles", "groups"):
        if not isinstance(doc.get(listed) or [], list):
            doc[listed] = []
    return doc
