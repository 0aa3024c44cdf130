"""Inbox apps (docs/inbox.md): named vendor configurations, their imported keys sealed at rest.

An app names the vendor format to sign, the vendor's identifiers and the key: the vendor's own
private key or shared secret (imported, validated, sealed with IDENTITY_ENCRYPTION_KEYS), or
``own-key`` (our key ring). The key ring never rotates an imported key; ``replace_key`` swaps it.

Which app answers a request without ``"app"``: the app marked default; else, when
IDENTITY_INBOX_API_KEY is set, the implicit own-key Engagespot app ``legacy`` (today's
behaviour); else none, and the endpoint answers 503.
"""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from identity.cache import TTLCache
from identity.config import Settings
from identity.crypto.inbox_formats import VENDORS, Vendor
from identity.crypto.key_import import KeyImportError, import_key
from identity.crypto.secretbox import SecretBox
from identity.errors import BadRequest, Conflict, NotFound, ServiceUnavailable
from identity.models.base import db
from identity.models.inbox import InboxApp
from identity.models.types import utcnow
from identity.services.audit import AuditLog
from identity.storage.transactions import Contended, retrying

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
NAME_RULE = "1-100 characters: letters, digits, '.', '_', '-'"
LEGACY_NAME = "legacy"
DEV_APP_NAME = "local-development"
DEV_APP_API_KEY = "local-development-api-key"


class InboxNotConfigured(ServiceUnavailable):
    """No inbox app can answer: a deployment error, not the caller's (503, docs/limits.md)."""

    text = "No inbox app is configured (identity inbox-apps add)"

    def __init__(self, text: str | None = None) -> None:
        super().__init__(text, retry_after=60)


@dataclass(frozen=True)
class NewInboxApp:
    name: str
    vendor: str
    api_key: str | None = None
    key: bytes | str | None = None  # raw key material as imported; never shown
    own_key: bool = False
    lifetime: int | None = None
    default: bool = False

    def __repr__(self) -> str:
        return f"NewInboxApp(name={self.name!r}, vendor={self.vendor!r})"


@dataclass(frozen=True)
class ResolvedApp:
    """One app as signing needs it; ``public()`` is everything that may be shown."""

    name: str
    vendor: Vendor
    api_key: str | None
    own_key: bool
    key_sealed: str | None
    key_description: str | None
    lifetime: int | None
    default: bool
    created_at: datetime | None = None
    key_replaced_at: datetime | None = None
    implicit: bool = False

    def __repr__(self) -> str:
        return f"ResolvedApp(name={self.name!r}, vendor={self.vendor.name!r})"

    @classmethod
    def of(cls, row: InboxApp) -> ResolvedApp:
        return cls(
            row.name,
            VENDORS[row.vendor],
            row.api_key,
            row.own_key,
            row.key_sealed,
            row.key_description,
            row.lifetime,
            row.is_default,
            row.created_at,
            row.key_replaced_at,
        )

    def public(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "vendor": self.vendor.name,
            "algorithm": "RS256" if self.own_key else self.vendor.algorithm,
            "api_key": self.api_key,
            "own_key": self.own_key,
            "key": "own key ring" if self.own_key else self.key_description,
            "lifetime": self.lifetime,
            "default": self.default,
            "implicit": self.implicit,
            "created_at": _iso(self.created_at),
            "key_replaced_at": _iso(self.key_replaced_at),
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def validate_name(name: object, field: str = "name") -> str:
    if not isinstance(name, str) or not NAME.match(name):
        raise BadRequest("Invalid inbox app name", {field: [NAME_RULE]})
    return name


class InboxApps:
    def __init__(self, settings: Settings, audit: AuditLog) -> None:
        self.settings = settings
        self._audit = audit
        self._box = SecretBox(settings.encryption_keys)
        # The inbox endpoints must cost about one signature: apps are remembered in this
        # process as clients are (IDENTITY_CLIENT_CACHE_SECONDS); a change made here is seen
        # at once, one made elsewhere within that time.
        self._resolved: TTLCache[str | None, ResolvedApp] = TTLCache(
            settings.client_cache_seconds, 1000
        )

    def __repr__(self) -> str:
        return "InboxApps(***)"

    # --- management ---------------------------------------------------------------------------
    def add(self, new: NewInboxApp) -> ResolvedApp:
        vendor = self._validate(new)
        imported = None if new.own_key else self._import(vendor, new.key)
        sealed = self._box.seal(imported.material) if imported else None

        def insert() -> InboxApp:
            first = db.session.scalar(select(InboxApp.id).limit(1)) is None
            if new.default:  # only the current default row is locked: no lock-order deadlock
                db.session.execute(
                    update(InboxApp).where(InboxApp.is_default).values(is_default=False)
                )
            row = InboxApp(
                name=new.name,
                vendor=vendor.name,
                api_key=new.api_key,
                own_key=new.own_key,
                key_sealed=sealed,
                key_description=imported.description if imported else None,
                lifetime=new.lifetime,
                is_default=new.default or first,  # the first app answers requests without "app"
            )
            db.session.add(row)
            self._audit.record("inbox_app.create", f"inbox_app:{new.name}")
            try:
                db.session.commit()
            except IntegrityError:
                db.session.rollback()
                if self._row(new.name) is not None:
                    raise Conflict(f"Inbox app {new.name!r} already exists") from None
                raise Contended() from None  # another default won (one-default index): again
            return row

        row = retrying(insert)
        self._resolved.clear()
        return ResolvedApp.of(row)

    def list(self) -> list[ResolvedApp]:
        rows = db.session.scalars(select(InboxApp).order_by(InboxApp.name))
        return [ResolvedApp.of(row) for row in rows]

    def get(self, name: str) -> ResolvedApp:
        row = self._row(name)
        if row is not None:
            return ResolvedApp.of(row)
        legacy = self.legacy()
        if legacy is not None and name == LEGACY_NAME:
            return legacy
        raise NotFound(f"No inbox app named {name!r}")

    def replace_key(self, name: str, raw: bytes | str | None) -> ResolvedApp:
        """Swap the key at once: the vendor verifies with the new public half only."""
        row = self._row(name)
        if row is None:
            raise NotFound(f"No inbox app named {name!r}")
        imported = self._import(VENDORS[row.vendor], raw)
        row.key_sealed = self._box.seal(imported.material)
        row.key_description = imported.description
        row.own_key = False
        row.key_replaced_at = utcnow()
        self._audit.record("inbox_app.replace_key", f"inbox_app:{name}")
        db.session.commit()
        self._resolved.clear()
        return ResolvedApp.of(row)

    def remove(self, name: str) -> None:
        row = self._row(name)
        if row is None:
            raise NotFound(f"No inbox app named {name!r}")
        db.session.delete(row)
        self._audit.record("inbox_app.remove", f"inbox_app:{name}")
        db.session.commit()
        self._resolved.clear()

    def reseal(self) -> int:
        """Re-seal imported keys under the newest encryption key (caller commits)."""
        rows = list(db.session.scalars(select(InboxApp).where(InboxApp.key_sealed.is_not(None))))
        for row in rows:
            row.key_sealed = self._box.rotate(str(row.key_sealed))
        return len(rows)

    # --- resolution ---------------------------------------------------------------------------
    def resolve(self, name: str | None) -> ResolvedApp:
        """The app that signs: ``name``, or the default; 404 unknown, 503 none configured."""
        return self._resolved.get_or_load(name, self._resolve_now)

    def _resolve_now(self, name: str | None) -> ResolvedApp:
        query = select(InboxApp).where(
            InboxApp.is_default if name is None else InboxApp.name == name
        )
        row = db.session.scalar(query.limit(1))
        if row is not None:
            return ResolvedApp.of(row)
        # No default row: the legacy app, if any, is the default (saves legacy() a query).
        legacy = self.legacy(default=True if name is None else None)
        if legacy is not None and name in (None, LEGACY_NAME):
            return legacy
        if name is not None:
            raise NotFound(f"No inbox app named {name!r}")
        if db.session.scalar(select(InboxApp.id).limit(1)) is not None:
            raise InboxNotConfigured(
                'No default inbox app: pass "app", or mark one default (identity inbox-apps)'
            )
        raise InboxNotConfigured()

    def open_key(self, app: ResolvedApp) -> str:
        return self._box.open(str(app.key_sealed))

    def legacy(self, default: bool | None = None) -> ResolvedApp | None:
        """The implicit own-key Engagespot app of a deployment with only IDENTITY_INBOX_API_KEY;
        it is the default while no stored app is."""
        if not self.settings.inbox_api_key:
            return None
        if default is None:
            default = db.session.scalar(select(InboxApp.id).where(InboxApp.is_default)) is None
        return ResolvedApp(
            LEGACY_NAME,
            VENDORS["engagespot"],
            self.settings.inbox_api_key,
            own_key=True,
            key_sealed=None,
            key_description=None,
            lifetime=None,
            default=default,
            implicit=True,
        )

    # --- start-up and first run ---------------------------------------------------------------
    def startup_warnings(self) -> builtins.list[str]:
        """One line about inbox configuration that needs the operator's attention, if any."""
        if self.legacy() is not None:
            return [
                "IDENTITY_INBOX_API_KEY: inbox tokens come from the implicit own-key Engagespot "
                f"app {LEGACY_NAME!r}; import the vendor's key instead "
                "(identity inbox-apps add --key-file private.key ...; see docs/inbox.md)"
            ]
        if db.session.scalar(select(InboxApp.id).limit(1)) is None:
            return [
                "inbox: no inbox app configured; /inbox/token and /v1/inbox/tokens answer 503 "
                "until one is added (identity inbox-apps add; docs/inbox.md)"
            ]
        return []

    def ensure_dev_app(self) -> str | None:
        """A fresh embedded install's own-key app, so that ``make run`` issues tokens at once."""
        if self.settings.inbox_api_key or db.session.scalar(select(InboxApp.id).limit(1)):
            return None
        self.add(
            NewInboxApp(
                DEV_APP_NAME, "engagespot", api_key=DEV_APP_API_KEY, own_key=True, default=True
            )
        )
        return (
            f"created inbox app {DEV_APP_NAME!r} (engagespot, own-key, default) for local "
            "development only; remove it and import your vendor key for production"
        )

    # --- helpers ------------------------------------------------------------------------------
    def _row(self, name: str) -> InboxApp | None:
        return db.session.scalar(select(InboxApp).where(InboxApp.name == name))  # type: ignore[no-any-return]

    def _import(self, vendor: Vendor, raw: bytes | str | None) -> Any:
        if raw is None:
            raise BadRequest("Invalid inbox app", {"key": [f"required for {vendor.name}"]})
        try:
            return import_key(raw, vendor.key_kind, vendor.name)
        except KeyImportError as exc:
            raise BadRequest("Invalid inbox app key", {"key": [str(exc)]}) from None

    def _validate(self, new: NewInboxApp) -> Vendor:
        errors: dict[str, list[str]] = {}
        if not isinstance(new.name, str) or not NAME.match(new.name):
            errors["name"] = [NAME_RULE]
        vendor = VENDORS.get(new.vendor)
        if vendor is None:
            errors["vendor"] = [f"must be one of {', '.join(VENDORS)}"]
            raise BadRequest("Invalid inbox app", errors)
        if vendor.api_key and not new.api_key:
            errors["api_key"] = [f"required for {vendor.name} (the vendor's app API key)"]
        if new.api_key is not None and not (
            0 < len(new.api_key) <= 255 and new.api_key.isprintable()
        ):
            errors["api_key"] = ["1-255 printable characters"]
        if new.own_key and new.key is not None:
            errors["key"] = ["give a key or own-key, not both"]
        if new.own_key and not vendor.own_key:
            errors["own_key"] = [f"{vendor.name} signs with its own key ({vendor.algorithm})"]
        if new.lifetime is not None:
            if not vendor.expires:
                errors["lifetime"] = [f"{vendor.name} tokens do not expire"]
            elif not 60 <= new.lifetime <= self.settings.max_token_ttl:
                errors["lifetime"] = [f"60 to {self.settings.max_token_ttl} seconds"]
        if errors:
            raise BadRequest("Invalid inbox app", errors)
        return vendor
