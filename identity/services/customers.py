"""Customer accounts: creation with normalised usernames, argon2id hashes, opaque IDs."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from identity.config import Settings
from identity.crypto.customer_id import customer_id as make_customer_id
from identity.errors import BadRequest, Conflict, NotFound
from identity.models import Customer
from identity.models.base import db
from identity.services.audit import AuditLog

PROFILE_FIELDS = ("name", "email", "phone", "locale")
MAX_PASSWORD = 1024


def normalise_username(username: str) -> str:
    """NFKC + case-fold (+ NFKC again: case folding can denormalise), trimmed."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).casefold()).strip()


def password_hasher(settings: Settings) -> PasswordHasher:
    return PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
    )


def _storable(value: str, max_length: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= max_length and "\x00" not in value


class CustomerService:
    def __init__(
        self, settings: Settings, end_sessions: Callable[[Customer], None], audit: AuditLog
    ) -> None:
        self.settings = settings
        self.audit = audit
        self.hasher = password_hasher(settings)
        self._dummy_hash: str | None = None
        # Ends a customer's sessions and denies their live tokens (disable, password change).
        self.end_sessions = end_sessions

    def __repr__(self) -> str:
        return "CustomerService(***)"

    def customer_id_for(self, internal_id: int) -> str:
        return make_customer_id(
            internal_id, self.settings.customer_id_secret, self.settings.customer_id_version
        )

    def create(self, username: str, password: str, **profile: Any) -> Customer:
        """A new account; look-alike usernames (same NFKC case-fold) are refused with 409."""
        normalised = normalise_username(username)
        if not _storable(normalised, 255) or not normalised.isprintable():
            raise BadRequest("Invalid username", {"username": ["1-255 printable characters"]})
        if not password or len(password) > MAX_PASSWORD:
            raise BadRequest("Invalid password", {"password": ["1-1024 characters"]})
        attributes = profile.pop("attributes", None) or {}
        customer = Customer(
            username=normalised,
            password_hash=self.hasher.hash(password),
            attributes=attributes,
            **{k: v for k, v in profile.items() if k in PROFILE_FIELDS},
        )
        db.session.add(customer)
        try:
            db.session.flush()  # assigns the immutable id the customer ID derives from
            customer.customer_id = self.customer_id_for(customer.id)
            self.audit.record("user.create", f"user:{customer.customer_id}")
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            raise Conflict("Username already taken") from None
        return customer

    def by_username(self, username: str) -> Customer | None:
        normalised = normalise_username(username)
        if not _storable(normalised, 255):
            return None  # cannot exist (and PostgreSQL refuses NUL in text)
        return db.session.scalar(select(Customer).where(Customer.username == normalised))

    def by_customer_id(self, customer_id: str) -> Customer:
        if not _storable(customer_id, 100):
            raise NotFound("Unknown customer")
        customer = db.session.scalar(select(Customer).where(Customer.customer_id == customer_id))
        if customer is None:
            raise NotFound("Unknown customer")
        return customer

    def profile(self, customer: Customer) -> dict[str, Any]:
        out: dict[str, Any] = {name: getattr(customer, name) for name in PROFILE_FIELDS}
        out["attributes"] = dict(customer.attributes or {})
        return {k: v for k, v in out.items() if v not in (None, {})} | {
            "attributes": out["attributes"]
        }

    # --- login ---------------------------------------------------------------------------------
    def authenticate(self, username: str, password: str) -> Customer | None:
        """The enabled customer these credentials prove, else None, in about the same time.

        An unknown username is hashed against a dummy hash made with the same parameters, and a
        disabled account is verified like any other, so neither answers faster than a wrong
        password.
        """
        customer = self.by_username(username)
        stored = customer.password_hash if customer is not None else None
        valid = self._verify(stored or self._dummy(), password)
        if not valid or customer is None or stored is None or customer.disabled:
            return None
        if self.hasher.check_needs_rehash(stored):  # argon2 parameters changed since
            customer.password_hash = self.hasher.hash(password)
            db.session.commit()
        return customer

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash("dummy password for unknown users")
        return self._dummy_hash

    # --- administration ------------------------------------------------------------------------
    def listing(self, limit: int = 100, offset: int = 0) -> list[Customer]:
        query = select(Customer).order_by(Customer.id).limit(limit).offset(offset)
        return list(db.session.scalars(query))

    def update(self, customer: Customer, changes: dict[str, Any]) -> Customer:
        """Set profile fields, ``attributes`` (replaced), ``password`` or ``disabled``."""
        for name in PROFILE_FIELDS:
            if name in changes:
                setattr(customer, name, changes[name])
        if "attributes" in changes:
            customer.attributes = dict(changes["attributes"] or {})
        if changes.get("password"):
            customer.password_hash = self.hasher.hash(changes["password"])
        if "disabled" in changes:
            customer.disabled = bool(changes["disabled"])
        if customer.disabled or changes.get("password"):
            self.end_sessions(customer)
        verb = "disable" if set(changes) == {"disabled"} and customer.disabled else "update"
        self.audit.record(f"user.{verb}", f"user:{customer.customer_id}")
        db.session.commit()
        return customer

    def disable(self, customer: Customer) -> Customer:
        """Refuse logins and end every session of this customer (its tokens stop working)."""
        return self.update(customer, {"disabled": True})
