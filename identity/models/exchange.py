"""Infobip Exchange: connected accounts, app settings, OAuth states, inbound messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from identity.models.base import db
from identity.models.types import UTCDateTime, utcnow


class ExchangeAccount(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "exchange_accounts"

    account_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_key: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    locale: Mapped[str | None] = mapped_column(String(35), nullable=True)
    roles: Mapped[list[Any]] = mapped_column(JSON, default=list)
    groups: Mapped[list[Any]] = mapped_column(JSON, default=list)
    token_type: Mapped[str] = mapped_column(String(20), default="IBSSO")
    token_sealed: Mapped[str] = mapped_column(Text)  # SecretBox
    connected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"ExchangeAccount(account_key={self.account_key!r})"


class AppSetting(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "app_settings"

    account_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)  # sealed when is_secret
    is_secret: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OAuthState(db.Model):  # type: ignore[name-defined,misc]
    """A started authorization: single use, bound to a browser, short-lived."""

    __tablename__ = "oauth_states"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    browser_hash: Mapped[str] = mapped_column(String(64))
    verifier_sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class InboundMessage(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(40))
    sender: Mapped[str | None] = mapped_column(String(255), nullable=True)
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
