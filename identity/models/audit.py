"""The audit log: who changed what, and refused client authentications (never a secret)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from identity.models.base import db
from identity.models.types import UTCDateTime


class AuditEvent(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(200))  # client:<client_id> or cli
    action: Mapped[str] = mapped_column(String(64), index=True)  # <kind>.<verb>
    target: Mapped[str] = mapped_column(String(300), index=True)  # <kind>:<id or name>
    outcome: Mapped[str] = mapped_column(String(16))  # success or refused
    request_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    count: Mapped[int] = mapped_column(Integer, default=1)
    # Aggregated events (client.auth_refused per client and minute) share one row per bucket.
    bucket: Mapped[str | None] = mapped_column(String(400), unique=True, nullable=True)

    def __repr__(self) -> str:
        return f"AuditEvent(id={self.id!r}, action={self.action!r}, target={self.target!r})"
