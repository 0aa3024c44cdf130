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
from sqlalchemy.exc import IntegrityError

from identity import limits
from identity.cache import TTLCache
from identity.crypto.hashing import hash_secret, matches, random_secret
from identity.errors import BadRequest, NotFound
from identity.models import ApiResource, ClientGrant, OAuthClient
from identity.models.base import db
from identity.scopes import BUILTIN_API
from identity.services.apis import ApiService

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
    """What the token endpoint needs to know about a client (no secret, only its hash).

    ``grants`` maps each API the client holds scopes on to those scopes (never empty)."""

    client_id: str
    name: str
    grants: dict[str, tuple[str, ...]]
    lifetime: int | None
    enabled: bool
    secret_hash: str

    def __repr__(self) -> str:
        return f"ClientRecord(client_id={self.client_id!r}, enabled={self.enabled!r})"

    @property
    def scopes(self) -> tuple[str, ...]:
        """The client's scopes on this service (the built-in API)."""
        return self.grants.get(BUILTIN_API, ())

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


def grants_of(client_pk: int) -> dict[str, tuple[str, ...]]:
    """``{api name: scopes}`` of one client, in the order the grants were made."""
    rows = db.session.execute(
        select(ApiResource.name, ClientGrant.scopes)
        .join(ClientGrant, ClientGrant.api_id == ApiResource.id)
        .where(ClientGrant.client_pk == client_pk)
        .order_by(ClientGrant.id)
    )
    return {name: tuple(scopes.split()) for name, scopes in rows}


def _record(row: OAuthClient) -> ClientRecord:
    return ClientRecord(
        client_id=row.client_id,
        name=row.name,
        grants=grants_of(row.id),
        lifetime=row.token_lifetime,
        enabled=row.enabled,
        secret_hash=row.secret_hash,
    )


@dataclass(frozen=True)
class Grant:
    client_id: str
    api: str
    scope: str


class ClientService:
    def __init__(self, pepper: str, apis: ApiService, cache_seconds: float = 2.0) -> None:
        self._pepper = pepper
        self._apis = apis
        self._cache: TTLCache[str, ClientRecord | None] = TTLCache(cache_seconds, 10_000)
        apis.on_change(self.forget_all)  # API scopes and removals change grants

    def __repr__(self) -> str:
        return "ClientService(***)"

    # --- reading (hot path) ----------------------------------------------------------------
    def get(self, client_id: str) -> ClientRecord | None:
        """The enabled client with this id, from the in-process cache when fresh."""
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

    def grants(self, row: OAuthClient) -> dict[str, str]:
        """``{api name: "a b"}`` of a client row, for listings."""
        return {api: " ".join(scopes) for api, scopes in grants_of(row.id).items()}

    # --- managing --------------------------------------------------------------------------
    def create(
        self, name: str, scope: str, lifetime: int | None = None, api: str = BUILTIN_API
    ) -> CreatedClient:
        """A new client holding ``scope`` on ``api``; its secret is returned here once and
        stored only as a hash."""
        name = name.strip()
        limits.check(
            "Invalid client",
            name=(limits.CLIENT_NAME, name),
            scope=(limits.SCOPE, scope),
            lifetime=(limits.CLIENT_LIFETIME, lifetime),
        )
        api_id, scope = self._grantable(api, scope)
        client_id = new_client_id()
        secret = random_secret(32)  # 256 bits
        now = datetime.now(UTC)
        row = OAuthClient(
            client_id=client_id,
            name=name,
            secret_hash=hash_secret(secret, self._pepper),
            token_lifetime=lifetime,
            enabled=True,
            created_at=now,
            secret_rotated_at=now,
        )
        db.session.add(row)
        if scope:
            db.session.flush()  # the row's id, for the grant; one commit for both
            db.session.add(ClientGrant(client_pk=row.id, api_id=api_id, scopes=scope))
        db.session.commit()
        return CreatedClient(client_id, secret, scope, lifetime)

    def grant(self, client_id: str, api: str, scope: str) -> Grant:
        """Set what the client holds on ``api`` (RFC 6749 §3.3 scope); empty removes the grant."""
        row = self.row(client_id)
        api_id, scope = self._grantable(api, scope)
        query = select(ClientGrant).where(
            ClientGrant.client_pk == row.id, ClientGrant.api_id == api_id
        )
        for attempt in (1, 2):  # a concurrent first grant wins the unique pair: update it then
            existing = db.session.scalar(query)
            if existing is not None and scope:
                existing.scopes = scope
            elif existing is not None:
                db.session.delete(existing)
            elif scope:
                db.session.add(ClientGrant(client_pk=row.id, api_id=api_id, scopes=scope))
            try:
                db.session.commit()
                break
            except IntegrityError:
                db.session.rollback()
                if attempt == 2:
                    raise
        self.forget(client_id)
        return Grant(client_id, api, scope)

    def _grantable(self, api: str, scope: str) -> tuple[int, str]:
        """``(the API's row id, the normalised scope)``: 404 for an unknown API, 400 unless the
        API defines every scope token (an empty scope is no grant)."""
        scope = normalise_scope(scope)
        if not valid_scope(scope):
            raise BadRequest("Invalid scope", {"scope": ["RFC 6749 §3.3 scope tokens"]})
        api_id = self._apis.get(api).grantable(scope)
        return api_id, scope

    def rotate_secret(self, client_id: str) -> CreatedClient:
        """A new secret; the old one stops working at once (on this instance)."""
        row = self.row(client_id)
        secret = random_secret(32)
        row.secret_hash = hash_secret(secret, self._pepper)
        row.secret_rotated_at = datetime.now(UTC)
        db.session.commit()
        self.forget(client_id)
        scope = " ".join(grants_of(row.id).get(BUILTIN_API, ()))
        return CreatedClient(row.client_id, secret, scope, row.token_lifetime)

    def disable(self, client_id: str) -> OAuthClient:
        """Refuse new tokens to this client (tokens already issued live until they expire)."""
        row = self.row(client_id)
        row.enabled = False
        db.session.commit()
        self.forget(client_id)
        return row

    def forget(self, client_id: str) -> None:
        self._cache.pop(client_id)

    def forget_all(self) -> None:
        self._cache.clear()
