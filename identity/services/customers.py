"""Customer accounts: creation with normalised usernames, argon2id hashes, opaque IDs."""

from __future__ import annotations

import unicodedata
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from identity.config import Settings
from identity.crypto.customer_id import customer_id as make_customer_id
from identity.errors import BadRequest, Conflict, NotFound
from identity.extensions import db
from identity.models import Customer

PROFILE_FIELDS = ("name", "email", "phone", "locale")


def normalise_username(username: str) -> str:
    """NFKC + case-fold (+ NFKC again: case folding can denormalise), trimmed."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).casefold()).strip()


def password_hasher(settings: Settings) -> PasswordHasher:
    return PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
    )


class CustomerService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.hasher = password_hasher(settings)

    def __repr__(self) -> str:
        return "CustomerService(***)"

    def customer_id_for(self, internal_id: int) -> str:
        return make_customer_id(
            internal_id, self.settings.customer_id_secret, self.settings.customer_id_version
        )

    def create(self, username: str, password: str, **profile: Any) -> Customer:
        """A new account; look-alike usernames (same NFKC case-fold) are refused with 409."""
        normalised = normalise_username(username)
        if not normalised or len(normalised) > 255:
            raise BadRequest("Invalid username", {"username": ["1-255 characters"]})
        if not password or len(password) > 1024:
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
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            raise Conflict("Username already taken") from None
        return customer

    def by_username(self, username: str) -> Customer | None:
        return db.session.scalar(
            select(Customer).where(Customer.username == normalise_username(username))
        )

    def by_customer_id(self, customer_id: str) -> Customer:
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
