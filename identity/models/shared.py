"""Tables behind the database implementations of shared state (when Redis is not configured)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from identity.models.base import db
from identity.models.types import UTCDateTime


class RevokedToken(db.Model):  # type: ignore[name-defined,misc]
    """Denylist by ``jti`` (RFC 7009), kept until the token's own expiry."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class SeenSignature(db.Model):  # type: ignore[name-defined,misc]
    """Replay guard for signed inbound calls: a signature is refused until it ages out."""

    __tablename__ = "seen_signatures"

    digest: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class KeyValue(db.Model):  # type: ignore[name-defined,misc]
    """Small expiring values shared by instances without Redis (counters, locks, cache)."""

    __tablename__ = "kv"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
