"""Upstream connections the broker holds tokens for, and the shared level of its cache."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from identity.models.base import db
from identity.models.types import UTCDateTime, utcnow


class UpstreamConnection(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "upstream_connections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    base_url: Mapped[str] = mapped_column(String(500))
    method: Mapped[str] = mapped_column(String(20))  # ibsso | oauth2 | exchange | api_key | basic
    username: Mapped[str | None] = mapped_column(String(255), nullable=True)
    client_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    secret_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)  # SecretBox
    lifetime: Mapped[int | None] = mapped_column(Integer, nullable=True)
    connect_timeout: Mapped[float | None] = mapped_column(Float, nullable=True)
    read_timeout: Mapped[float | None] = mapped_column(Float, nullable=True)
    account_key: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"UpstreamConnection(name={self.name!r}, method={self.method!r})"


class UpstreamToken(db.Model):  # type: ignore[name-defined,misc]
    """Shared cache level in the database (when Redis is not configured); token sealed."""

    __tablename__ = "upstream_tokens"

    connection: Mapped[str] = mapped_column(String(100), primary_key=True)
    token_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    obtained_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    refresh_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    fence: Mapped[int] = mapped_column(Integer, default=0)
    lock_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    def __repr__(self) -> str:
        return f"UpstreamToken(connection={self.connection!r}, expires_at={self.expires_at!r})"
