"""APIs (resource servers, RFC 8707) and what each client holds on them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from identity.models.base import db
from identity.models.types import UTCDateTime, utcnow


class ApiResource(db.Model):  # type: ignore[name-defined,misc]
    """One API. The built-in row (``builtin``) stores no audience, scopes or lifetime: they are
    the service's own settings and scope registry, read at run time."""

    __tablename__ = "apis"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    audience: Mapped[str | None] = mapped_column(String(1000), unique=True, nullable=True)
    scopes: Mapped[str] = mapped_column(Text, default="")  # space-separated scope names
    lifetime: Mapped[int | None] = mapped_column(Integer, nullable=True)
    alg: Mapped[str] = mapped_column(String(10), default="RS256")
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"ApiResource(name={self.name!r}, audience={self.audience!r})"


class ClientGrant(db.Model):  # type: ignore[name-defined,misc]
    """The scopes one client holds on one API (never empty: no scopes means no row)."""

    __tablename__ = "client_grants"
    __table_args__ = (UniqueConstraint("client_pk", "api_id", name="uq_client_grants_client_api"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"))
    api_id: Mapped[int] = mapped_column(ForeignKey("apis.id", ondelete="CASCADE"), index=True)
    scopes: Mapped[str] = mapped_column(Text)  # space-separated, a subset of the API's

    def __repr__(self) -> str:
        return f"ClientGrant(client_pk={self.client_pk!r}, api_id={self.api_id!r})"
