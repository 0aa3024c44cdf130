"""OAuth clients: random ids, 256-bit secrets stored as HMAC-SHA256, an in-process lookup cache.

The token endpoint must cost about one RS256 signature, so client lookups are cached in this
process for ``cache_seconds`` (default 2 s). Disabling a client or rotating its secret drops
the entry here at once; other instances see the change within ``cache_seconds``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from identity import limits
from identity.cache import MISSING, TTLCache
from identity.crypto.hashing import hash_secret, matches, random_secret
from identity.errors import BadRequest, NotFound
from identity.models import OAuthClient
from identity.models.base import db
from identity.scopes import scope_errors

SCOPE_CHARS = frozenset(
    "!#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~"
)


def normalise_scope(scope: str | None) -> str:
    """Unique scope tokens in their first order (RFC 6749 §3.3: space-delimited, case-sensitive)."""
    return " ".join(dict.fromkeys((scope or "").split()))


def valid_scope(scope: str) -> bool:
    """RFC 6749 §3.3 scope-token characters: %x21 / %x23-5B / %x5D-7E."""
    return all(set(token) <= SCOPE_CHARS for token in scope.split())


def scope_within(requested: str, allowed: tuple[str, ...]) -> bool:
    """RFC 6749 §3.3: well-formed scope tokens, all among the client's."""
    return valid_scope(requested) and set(requested.split()) <= set(allowed)


def new_client_id() -> str:
    """144 random bits, URL-safe, never starting with ``-`` (it would read as a CLI option)."""
    while True:
        client_id = secrets.token_urlsafe(18)
        if not client_id.startswith("-"):
            return client_id


@dataclass(frozen=True)
class ClientRecord:
    """What the token endpoint needs to know about a client (no secret, only its hash)."""

    client_id: str
    name: str
    scopes: tuple[str, ...]
    lifetime: int | None
    enabled: bool
    secret_hash: str

    def __repr__(self) -> str:
        return f"ClientRecord(client_id={self.client_id!r}, enabled={self.enabled!r})"

    @property
    def scope(self) -> str:
        return " ".join(self.scopes)


@dataclass(frozen=True)
class CreatedClient:
    client_id: str
    client_secret: str
    scope: str
    lifetime: int | None

    def __repr__(self) -> str:
        return f"CreatedClient(client_id={self.client_id!r}, scope={self.scope!r})"


def _record(row: OAuthClient) -> ClientRecord:
    return ClientRecord(
        client_id=row.client_id,
        name=row.name,
        scopes=tuple(row.scope.split()),
        lifetime=row.token_lifetime,
        enabled=row.enabled,
        secret_hash=row.secret_hash,
    )


class ClientService:
    def __init__(self, pepper: str, cache_seconds: float = 2.0) -> None:
        self._pepper = pepper
        self._cache: TTLCache[str, ClientRecord | None] = TTLCache(cache_seconds, 10_000)

    def __repr__(self) -> str:
        return "ClientService(***)"

    # --- reading (hot path) ----------------------------------------------------------------
    def get(self, client_id: str) -> ClientRecord | None:
        """The enabled client with this id, from the in-process cache when fresh."""
        cached = self._cache.get(client_id)  # only valid ids are ever cached
        if cached is not MISSING:
            return cached
        if not client_id or len(client_id) > 64 or not client_id.isprintable():
            return None  # e.g. NUL, which PostgreSQL refuses in a query parameter
        return self._cache.get_or_load(client_id, self._load)

    def _load(self, client_id: str) -> ClientRecord | None:
        row = db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
        record = _record(row) if row is not None and row.enabled else None
        db.session.commit()  # end the read transaction
        return record

    def authenticate(self, client_id: str, secret: str) -> ClientRecord | None:
        """The client if ``secret`` is its current secret (constant-time), else None."""
        record = self.get(client_id)
        # Compare even for an unknown client so that timing does not tell which part failed.
        stored = record.secret_hash if record is not None else "0" * 64
        valid = matches(secret, stored, self._pepper)
        return record if valid and record is not None else None

    def list(self) -> list[OAuthClient]:
        return list(db.session.scalars(select(OAuthClient).order_by(OAuthClient.id)))

    def row(self, client_id: str) -> OAuthClient:
        row = db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
        if row is None:
            raise NotFound("No such client")
        return row

    # --- managing --------------------------------------------------------------------------
    def create(self, name: str, scope: str, lifetime: int | None = None) -> CreatedClient:
        """A new client; its secret is returned here once and stored only as a hash."""
        name = name.strip()
        limits.check(
            "Invalid client",
            name=(limits.CLIENT_NAME, name),
            scope=(limits.SCOPE, scope),
            lifetime=(limits.CLIENT_LIFETIME, lifetime),
        )
        scope = normalise_scope(scope)
        if not valid_scope(scope):
            raise BadRequest("Invalid scope", {"scope": ["RFC 6749 §3.3 scope tokens"]})
        if scope_errors(scope):
            raise BadRequest("Unknown scope", scope_errors(scope))
        client_id = new_client_id()
        secret = random_secret(32)  # 256 bits
        now = datetime.now(UTC)
        db.session.add(
            OAuthClient(
                client_id=client_id,
                name=name,
                secret_hash=hash_secret(secret, self._pepper),
                scope=scope,
                token_lifetime=lifetime,
                enabled=True,
                created_at=now,
                secret_rotated_at=now,
            )
        )
        db.session.commit()
        return CreatedClient(client_id, secret, scope, lifetime)

    def rotate_secret(self, client_id: str) -> CreatedClient:
        """A new secret; the old one stops working at once (on this instance)."""
        row = self.row(client_id)
        secret = random_secret(32)
        row.secret_hash = hash_secret(secret, self._pepper)
        row.secret_rotated_at = datetime.now(UTC)
        db.session.commit()
        self.forget(client_id)
        return CreatedClient(row.client_id, secret, row.scope, row.token_lifetime)

    def disable(self, client_id: str) -> OAuthClient:
        """Refuse new tokens to this client (tokens already issued live until they expire)."""
        row = self.row(client_id)
        row.enabled = False
        db.session.commit()
        self.forget(client_id)
        return row

    def forget(self, client_id: str) -> None:
        self._cache.pop(client_id)
