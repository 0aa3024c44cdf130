"""Partners (OAuth clients, API keys) and customers (accounts, profiles, sessions)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from identity.models.base import db
from identity.models.types import UTCDateTime, utcnow


class OAuthClient(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "oauth_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # HMAC-SHA256 hex (see crypto.hashing); "" for a private_key_jwt client, which has no secret
    secret_hash: Mapped[str] = mapped_column(String(128))
    token_lifetime: Mapped[int | None] = mapped_column(Integer, nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    secret_rotated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    auth_method: Mapped[str] = mapped_column(String(32), default="client_secret_basic")
    jwks: Mapped[str | None] = mapped_column(Text, nullable=True)  # public JWK Set, JSON
    jwks_uri: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    # The secret before the last rotation, accepted until old_secret_expires_at (overlap).
    old_secret_hash: Mapped[str | None] = mapped_column(String(128), nullable=True)
    old_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    def __repr__(self) -> str:
        return f"OAuthClient(client_id={self.client_id!r}, enabled={self.enabled!r})"


class ApiKey(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    lookup: Mapped[str] = mapped_column(String(32), unique=True)  # non-secret key prefix
    key_hash: Mapped[str] = mapped_column(String(128))
    scope: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    def __repr__(self) -> str:
        return f"ApiKey(id={self.id!r}, name={self.name!r})"


class Customer(db.Model):  # type: ignore[name-defined,misc]
    """A customer account and its profile. ``id`` is immutable and feeds the customer ID."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(255), unique=True)  # NFKC + casefold
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    customer_id: Mapped[str | None] = mapped_column(String(100), unique=True, nullable=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    locale: Mapped[str | None] = mapped_column(String(35), nullable=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    def __repr__(self) -> str:
        return f"Customer(id={self.id!r}, disabled={self.disabled!r})"


class CustomerSession(db.Model):  # type: ignore[name-defined,misc]
    """A login; refreshes extend tokens up to ``expires_at`` (the absolute session limit)."""

    __tablename__ = "customer_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_pk: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
