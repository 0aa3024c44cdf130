"""Inbox apps (docs/inbox.md): which vendor format to sign, for which vendor app, with what key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from identity.models.base import db
from identity.models.types import UTCDateTime, utcnow


class InboxApp(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "inbox_apps"
    # At most one default app, whatever runs concurrently (migration 0003).
    __table_args__ = (
        Index(
            "uq_inbox_apps_one_default",
            "is_default",
            unique=True,
            postgresql_where=text("is_default"),
            sqlite_where=text("is_default"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    vendor: Mapped[str] = mapped_column(String(20))  # engagespot | knock | suprsend | novu | ...
    api_key: Mapped[str | None] = mapped_column(String(255), nullable=True)  # public vendor id
    own_key: Mapped[bool] = mapped_column(Boolean, default=False)  # signed by our key ring
    key_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)  # SecretBox; None: own-key
    key_description: Mapped[str | None] = mapped_column(String(100), nullable=True)
    lifetime: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: the default
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    key_replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    def __repr__(self) -> str:
        return f"InboxApp(name={self.name!r}, vendor={self.vendor!r}, own_key={self.own_key!r})"
