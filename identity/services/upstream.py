"""Upstream connections: management (credentials sealed at rest) and the broker's loader.

The broker (``identity.broker``) owns caching, refresh and single flight; this service reads
connection rows, opens their credentials for one upstream call, and builds the headers of the
methods that need no upstream call (``api_key``, ``basic``, ``exchange``).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from identity import limits
from identity.admission import Admission
from identity.broker import Broker, BrokerPolicy, ConnectionSpec, Token
from identity.broker.model import METHODS
from identity.config import Settings
from identity.crypto.secretbox import SecretBox
from identity.errors import BadRequest, Conflict, NotFound
from identity.models import AppSetting, ExchangeAccount, UpstreamConnection, UpstreamToken
from identity.models.base import db
from identity.services.audit import AuditLog
from identity.services.inbox_apps import InboxApps

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
REQUIRED = {  # what each method needs besides base_url
    "ibsso": ("username", "secret"),
    "oauth2": ("client_id", "secret"),
    "api_key": ("secret",),
    "basic": ("username", "secret"),
    "exchange": ("account_key",),
}


def policy_from(settings: Settings) -> BrokerPolicy:
    return BrokerPolicy(
        refresh_fraction=settings.broker_refresh_fraction,
        refresh_margin=float(settings.broker_refresh_margin),
        jitter=settings.broker_jitter,
        default_lifetime=settings.broker_default_lifetime,
        ibsso_lifetime=settings.broker_ibsso_lifetime,
        max_lifetime=settings.broker_max_lifetime,
        max_retry_after=settings.broker_max_retry_after,
        lock_timeout=settings.broker_lock_timeout,
        connect_timeout=settings.broker_connect_timeout,
        read_timeout=settings.broker_read_timeout,
        backoff_base=settings.broker_backoff_base,
        backoff_max=settings.broker_backoff_max,
        local_ttl=settings.broker_local_ttl,
    )


def build_broker(settings: Settings, shared: Any, admission: Admission) -> Broker:
    """Redis store when ``REDIS_URL`` is set (falling back to the database), else the database."""
    from identity.storage.upstream_db import DatabaseUpstreamStore

    store: Any = DatabaseUpstreamStore()
    primary = getattr(shared, "primary", None)
    if settings.redis_url and primary is not None:
        from identity.storage.upstream_redis import FallbackUpstreamStore, RedisUpstreamStore

        store = FallbackUpstreamStore(
            RedisUpstreamStore(primary.client, settings.redis_prefix), store
        )
    box = SecretBox(settings.encryption_keys)
    return Broker(policy_from(settings), store, box, waiting=admission.waiting)


@dataclass(frozen=True)
class NewConnection:
    name: str
    base_url: str
    method: str
    username: str | None = None
    client_id: str | None = None
    secret: str | None = None
    lifetime: int | None = None
    connect_timeout: float | None = None
    read_timeout: float | None = None
    account_key: str | None = None

    def __repr__(self) -> str:
        return f"NewConnection(name={self.name!r}, method={self.method!r})"


def _validate(new: NewConnection) -> None:
    errors: dict[str, list[str]] = {}
    if not NAME.match(new.name):
        errors["name"] = ["1-100 characters: letters, digits, '.', '_', '-'"]
    if not re.match(r"^https?://[^\s/]+", new.base_url):
        errors["base_url"] = ["must be an http(s) URL"]
    if new.method not in METHODS:
        errors["method"] = [f"must be one of {', '.join(METHODS)}"]
    for field in REQUIRED.get(new.method, ()):
        if not getattr(new, field):
            errors[field] = [f"required for method {new.method}"]
    for field, bounds in (
        ("lifetime", limits.UPSTREAM_LIFETIME),
        ("connect_timeout", limits.UPSTREAM_TIMEOUT),
        ("read_timeout", limits.UPSTREAM_TIMEOUT),
    ):
        if problem := bounds.problem(getattr(new, field)):
            errors[field] = [problem]
    if errors:
        raise BadRequest("Invalid upstream connection", errors)


class UpstreamService:
    def __init__(
        self, settings: Settings, broker: Broker, inbox_apps: InboxApps, audit: AuditLog
    ) -> None:
        self.settings = settings
        self._audit = audit
        self.broker = broker
        self.inbox_apps = inbox_apps  # their imported keys are re-sealed with ours
        self._box = SecretBox(settings.encryption_keys)

    def __repr__(self) -> str:
        return "UpstreamService(***)"

    # --- management ---------------------------------------------------------------------------
    def add(self, new: NewConnection) -> UpstreamConnection:
        _validate(new)
        row = UpstreamConnection(
            name=new.name,
            base_url=new.base_url.rstrip("/"),
            method=new.method,
            username=new.username,
            client_id=new.client_id,
            secret_sealed=self._box.seal(new.secret) if new.secret else None,
            lifetime=new.lifetime,
            connect_timeout=new.connect_timeout,
            read_timeout=new.read_timeout,
            account_key=new.account_key,
        )
        db.session.add(row)
        self._audit.record("upstream.create", f"upstream:{new.name}")
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            raise Conflict(f"Upstream connection {new.name!r} already exists") from None
        self.broker.forget(new.name)  # a token left by an earlier connection of that name
        return row

    def list(self) -> list[UpstreamConnection]:
        return list(
            db.session.scalars(select(UpstreamConnection).order_by(UpstreamConnection.name))
        )

    def get(self, name: str) -> UpstreamConnection:
        row = db.session.scalar(select(UpstreamConnection).where(UpstreamConnection.name == name))
        if row is None:
            raise NotFound(f"No upstream connection named {name!r}")
        return row

    def remove(self, name: str) -> None:
        db.session.delete(self.get(name))
        self._audit.record("upstream.remove", f"upstream:{name}")
        db.session.commit()
        self.broker.forget(name)

    def reencrypt(self) -> int:
        """Re-seal everything sealed at rest under the newest encryption key (key rotation):
        upstream credentials, cached upstream tokens, Exchange tokens, secret app settings,
        imported inbox keys.
        One transaction: either all of it moves to the new key or none of it does."""
        rows = self.list()
        for row in rows:
            if row.secret_sealed:
                row.secret_sealed = self._box.rotate(row.secret_sealed)
        for token in db.session.scalars(select(UpstreamToken)):
            if token.token_sealed:
                token.token_sealed = self._box.rotate(token.token_sealed)
        for account in db.session.scalars(select(ExchangeAccount)):
            account.token_sealed = self._box.rotate(account.token_sealed)
        for setting in db.session.scalars(select(AppSetting).where(AppSetting.is_secret)):
            setting.value = self._box.rotate(setting.value)
        self.inbox_apps.reseal()  # imported inbox vendor keys (issue 13)
        db.session.commit()
        return len(rows)

    # --- tokens ---------------------------------------------------------------------------------
    def authorization(self, name: str) -> Token:
        """The header to call the upstream with (cached; see ``identity.broker``)."""
        token = self.broker.peek(name)
        if token is not None:
            return token
        # Give this request's database connection back before possibly waiting for another
        # reader's upstream call: 50 waiting readers must not starve the pool it needs.
        db.session.rollback()
        return self.broker.authorization(name, lambda: self._load(name))

    def invalidate(self, name: str, header: str | None = None) -> bool:
        """Drop the cached token (only if it is ``header``, when given)."""
        self.get(name)
        db.session.rollback()
        return self.broker.invalidate(name, header)

    def _load(self, name: str) -> ConnectionSpec | Token:
        row = self.get(name)
        secret = self._box.open(row.secret_sealed) if row.secret_sealed else ""
        if row.method == "api_key":
            return self._static("App", secret, None)
        if row.method == "basic":
            pair = base64.b64encode(f"{row.username}:{secret}".encode()).decode("ascii")
            return self._static("Basic", pair, None)
        if row.method == "exchange":
            return self._exchange(row)
        spec = ConnectionSpec(
            name=row.name,
            method=row.method,
            base_url=row.base_url,
            username=row.username,
            client_id=row.client_id,
            secret=secret,
            lifetime=row.lifetime,
            connect_timeout=row.connect_timeout,
            read_timeout=row.read_timeout,
        )
        db.session.rollback()  # end the read transaction before a possibly slow upstream call
        return spec

    def _static(self, token_type: str, value: str, expires_at: float | None) -> Token:
        now = self.broker.clock()
        refresh_at = now + self.broker.policy.static_ttl
        if expires_at is not None:
            refresh_at = min(refresh_at, expires_at)
        return Token(token_type, value, now, expires_at, refresh_at)

    def _exchange(self, row: UpstreamConnection) -> Token:
        """Exchange tokens cannot be refreshed without the user: expired → 409 with the way back."""
        account = db.session.get(ExchangeAccount, row.account_key) if row.account_key else None
        now = self.broker.clock()
        if account is None or account.expires_at.timestamp() <= now:
            raise Conflict(
                "Exchange authorization expired; reconnect",
                details={"reconnect_url": f"{self.settings.issuer}/exchange/connect"},
            )
        token = self._box.open(account.token_sealed)
        return self._static(account.token_type, token, account.expires_at.timestamp())


def rfc3339(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
