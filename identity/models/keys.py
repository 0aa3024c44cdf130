from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from identity.models.base import db
from identity.models.types import UTCDateTime, utcnow


class SigningKey(db.Model):  # type: ignore[name-defined,misc]
    """One key of the ring (RSA for RS256, EC P-256 for ES256). State is derived from
    ``activates_at`` among the keys of the same ``alg`` (see crypto.keyring)."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    alg: Mapped[str] = mapped_column(String(10), default="RS256")
    public_jwk: Mapped[str] = mapped_column(Text)  # JSON
    private_pem: Mapped[bytes] = mapped_column(LargeBinary)  # encrypted PKCS#8 PEM
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    activates_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    def __repr__(self) -> str:
        return f"SigningKey(kid={self.kid!r}, activates_at={self.activates_at!r})"
