"""OAuth clients: random ids, 256-bit secrets stored as HMAC-SHA256, an in-process lookup cache.

The token endpoint must cost about one RS256 signature, so client lookups are cached in this
process for ``cache_seconds`` (default 2 s). Disabling a client or rotating its secret drops
the entry here at once; other instances see the change within ``cache_seconds``. A rotation
may keep the old secret for an overlap (up to 30 days); its end is checked on every request,
so it ends on time everywhere. ``private_key_jwt`` clients have keys instead of a secret.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from identity import limits
from identity.cache import MISSING, TTLCache
from identity.crypto.client_jwks import InvalidJwks, PublicKey, parse_jwks
from identity.crypto.hashing import hash_secret, matches, random_secret
from identity.errors import BadRequest, Conflict, NotFound
from identity.models import ApiResource, ClientGrant, OAuthClient
from identity.models.base import db
from identity.scopes import BUILTIN_API, SCOPE_TOKEN
from identity.services.apis import ApiService
from identity.services.audit import AuditLog
from identity.services.jwks_uri import UnsafeJwksUri, check_uri

# A method name, not a secret; client_secret_post is the same secret sent in the body.
SECRET = "client_secret_basic"  # noqa: S105
PRIVATE_KEY_JWT = "private_key_jwt"
DUMMY_HASH = "0" * 64


def normalise_scope(scope: str | None) -> str:
    """Unique scope tokens in their first order (RFC 6749 §3.3: space-delimited, case-sensitive)."""
    return " ".join(dict.fromkeys((scope or "").split()))


def valid_scope(scope: str) -> bool:
    """RFC 6749 §3.3 scope-token characters: %x21 / %x23-5B / %x5D-7E."""
    return all(SCOPE_TOKEN.fullmatch(token) for token in scope.split())


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
    auth_method: str = SECRET
    jwks: tuple[PublicKey, ...] = ()
    jwks_uri: str | None = None
    old_secret_hash: str | None = None
    old_secret_expires_at: datetime | None = None

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
    client_secret: str | None  # None for a private_key_jwt client
    scope: str
    lifetime: int | None
    auth_method: str = SECRET

    def __repr__(self) -> str:
        return f"CreatedClient(client_id={self.client_id!r}, scope={self.scope!r})"


@dataclass(frozen=True)
class RotatedSecret:
    client_id: str
    client_secret: str
    old_secret_expires_at: datetime | None

    def __repr__(self) -> str:
        return f"RotatedSecret(client_id={self.client_id!r})"


@dataclass(frozen=True)
class ClientAuth:
    """How a new client authenticates: a secret, or keys (a JWK Set or its URL)."""

    method: str = SECRET
    jwks: str | None = None  # the JWK Set as registered (JSON text)
    jwks_uri: str | None = None


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
        auth_method=row.auth_method,
        jwks=tuple(parse_jwks(row.jwks)[1]) if row.jwks else (),
        jwks_uri=row.jwks_uri,
        old_secret_hash=row.old_secret_hash,
        old_secret_expires_at=row.old_secret_expires_at,
    )


def client_view(row: OAuthClient, grants: dict[str, str]) -> dict[str, Any]:
    """What ``clients show`` and ``GET /admin/clients/<id>`` tell (never a secret or its hash)."""
    return {
        "client_id": row.client_id,
        "name": row.name,
        "scope": grants.get(BUILTIN_API, ""),
        "grants": grants,
        "lifetime": row.token_lifetime,
        "enabled": row.enabled,
        "auth_method": row.auth_method,
        "jwks_uri": row.jwks_uri,
        "jwks": json.loads(row.jwks) if row.jwks else None,
        "created_at": _iso(row.created_at),
        "secret_rotated_at": _iso(row.secret_rotated_at) if row.auth_method == SECRET else None,
        "old_secret_expires_at": _iso(_live(row.old_secret_expires_at)),
    }


def rotated_view(rotated: RotatedSecret) -> dict[str, Any]:
    """The answer of a rotation (CLI and admin API alike); the secret is shown here only."""
    return {
        "client_id": rotated.client_id,
        "client_secret": rotated.client_secret,
        "old_secret_expires_at": _iso(rotated.old_secret_expires_at),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _live(expires_at: datetime | None) -> datetime | None:
    return expires_at if expires_at is not None and expires_at > datetime.now(UTC) else None


def _overlapping(record: ClientRecord) -> bool:
    expires = record.old_secret_expires_at
    return (
        record.old_secret_hash is not None and expires is not None and expires > datetime.now(UTC)
    )


@dataclass(frozen=True)
class Grant:
    client_id: str
    api: str
    scope: str


class ClientService:
    def __init__(
        self,
        pepper: str,
        apis: ApiService,
        audit: AuditLog,
        cache_seconds: float = 2.0,
        allow_insecure_jwks_uri: bool = False,
    ) -> None:
        self._pepper = pepper
        self._apis = apis
        self._audit = audit
        self._allow_insecure = allow_insecure_jwks_uri
        self._cache: TTLCache[str, ClientRecord | None] = TTLCache(cache_seconds, 10_000)
        apis.on_change(self.forget_all)  # API scopes and removals change grants

    def __repr__(self) -> str:
        return "ClientService(***)"

    # --- reading (hot path) ----------------------------------------------------------------
    def get(self, client_id: str) -> ClientRecord | None:
        """The enabled client with this id, from the in-process cache when fresh."""
        record = self.lookup(client_id)
        return record if record is not None and record.enabled else None

    def lookup(self, client_id: str) -> ClientRecord | None:
        """The client with this id, enabled or not (cached like ``get``)."""
        cached = self._cache.get(client_id)  # only valid ids are ever cached
        if cached is not MISSING:
            return cached
        if not client_id or len(client_id) > 64 or not client_id.isprintable():
            return None  # e.g. NUL, which PostgreSQL refuses in a query parameter
        return self._cache.get_or_load(client_id, self._load)

    def _load(self, client_id: str) -> ClientRecord | None:
        row = db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
        record = _record(row) if row is not None else None
        db.session.commit()  # end the read transaction
        return record

    def authenticate(self, client_id: str, secret: str) -> ClientRecord | None:
        """The client if ``secret`` is its secret, or its old one still in its overlap."""
        record = self.get(client_id)
        uses_secret = record is not None and record.auth_method == SECRET
        # Compare both, even for an unknown client: timing does not tell which part failed.
        current = record.secret_hash if uses_secret and record else DUMMY_HASH
        old = record.old_secret_hash if uses_secret and record else None
        valid = matches(secret, current, self._pepper)
        valid_old = matches(secret, old or DUMMY_HASH, self._pepper)
        if record is not None and uses_secret and (valid or (valid_old and _overlapping(record))):
            return record
        self.refused(client_id)
        return None

    def refused(self, client_id: str | None) -> None:
        """Count a refused authentication in the audit log (``client:unknown`` for strangers)."""
        known = client_id is not None and self.lookup(client_id) is not None
        self._audit.refused(client_id if known else None)

    def list(self) -> list[OAuthClient]:
        return list(db.session.scalars(select(OAuthClient).order_by(OAuthClient.id)))

    def row(self, client_id: str) -> OAuthClient:
        if not client_id.isprintable() or len(client_id) > 64:
            raise NotFound("No such client")
        row = db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
        if row is None:
            raise NotFound("No such client")
        return row

    def grants(self, row: OAuthClient) -> dict[str, str]:
        """``{api name: "a b"}`` of a client row, for listings."""
        return {api: " ".join(scopes) for api, scopes in grants_of(row.id).items()}

    def view(self, row: OAuthClient) -> dict[str, Any]:
        """The client as shown by the CLI and the admin API (``client_view``)."""
        return client_view(row, self.grants(row))

    # --- managing --------------------------------------------------------------------------
    def create(
        self,
        name: str,
        scope: str,
        lifetime: int | None = None,
        api: str = BUILTIN_API,
        auth: ClientAuth | None = None,
    ) -> CreatedClient:
        """A new client holding ``scope`` on ``api``; a secret is returned here once and
        stored only as a hash."""
        auth = auth or ClientAuth()
        name = name.strip()
        limits.check(
            "Invalid client",
            name=(limits.CLIENT_NAME, name),
            scope=(limits.SCOPE, scope),
            lifetime=(limits.CLIENT_LIFETIME, lifetime),
        )
        api_id, scope = self._grantable(api, scope)
        jwks, jwks_uri = self._keys_of(auth)
        client_id = new_client_id()
        secret = random_secret(32) if auth.method == SECRET else None  # 256 bits
        now = datetime.now(UTC)
        row = OAuthClient(
            client_id=client_id,
            name=name,
            secret_hash=hash_secret(secret, self._pepper) if secret else "",
            token_lifetime=lifetime,
            enabled=True,
            created_at=now,
            secret_rotated_at=now,
            auth_method=auth.method,
            jwks=jwks,
            jwks_uri=jwks_uri,
        )
        db.session.add(row)
        if scope:
            db.session.flush()  # the row's id, for the grant; one commit for both
            db.session.add(ClientGrant(client_pk=row.id, api_id=api_id, scopes=scope))
        self._audit.record("client.create", f"client:{client_id}")
        db.session.commit()
        return CreatedClient(client_id, secret, scope, lifetime, auth.method)

    def _keys_of(self, auth: ClientAuth) -> tuple[str | None, str | None]:
        """The JWK Set (canonical JSON) or jwks_uri of a new client; BadRequest when unusable."""
        if auth.method == SECRET:
            if auth.jwks is not None or auth.jwks_uri is not None:
                raise BadRequest("Keys are for private_key_jwt", {"auth": ["private_key_jwt"]})
            return None, None
        if auth.method != PRIVATE_KEY_JWT:
            raise BadRequest("Unknown auth method", {"auth": [f"{SECRET} or {PRIVATE_KEY_JWT}"]})
        if (auth.jwks is None) == (auth.jwks_uri is None):
            raise BadRequest(
                "private_key_jwt needs keys", {"jwks": ["exactly one of jwks and jwks_uri"]}
            )
        if auth.jwks_uri is not None:
            limits.check("Invalid jwks_uri", jwks_uri=(limits.JWKS_URI, auth.jwks_uri))
            try:
                check_uri(auth.jwks_uri, self._allow_insecure, must_resolve=False)
            except UnsafeJwksUri as exc:
                raise BadRequest("Invalid jwks_uri", {"jwks_uri": [str(exc)]}) from None
            return None, auth.jwks_uri
        try:
            canonical, _ = parse_jwks(auth.jwks or "")
        except InvalidJwks as exc:
            raise BadRequest("Invalid JWK Set", {"jwks": [str(exc)]}) from None
        return json.dumps(canonical, separators=(",", ":")), None

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
            self._audit.record("client.grant", f"client:{client_id}")
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

    def rotate_secret(self, client_id: str, keep_old_for: int = 0) -> RotatedSecret:
        """A new secret; the old one keeps working ``keep_old_for`` seconds (0: stops at once)."""
        limits.check(
            "keep_old_for out of range", keep_old_for=(limits.SECRET_OVERLAP, keep_old_for)
        )
        row = self.row(client_id)
        if row.auth_method != SECRET:
            raise Conflict("This client authenticates with private_key_jwt: it has no secret")
        secret = random_secret(32)
        now = datetime.now(UTC)
        keep_until = now + timedelta(seconds=keep_old_for) if keep_old_for else None
        # A rotation during an overlap ends the older secret: at most two live at once.
        row.old_secret_hash = row.secret_hash if keep_until else None
        row.old_secret_expires_at = keep_until
        row.secret_hash = hash_secret(secret, self._pepper)
        row.secret_rotated_at = now
        self._audit.record("client.rotate_secret", f"client:{row.client_id}")
        db.session.commit()
        self.forget(client_id)
        return RotatedSecret(row.client_id, secret, keep_until)

    def disable(self, client_id: str) -> OAuthClient:
        """Refuse new tokens to this client (tokens already issued live until they expire)."""
        return self._set_enabled(client_id, False)

    def enable(self, client_id: str) -> OAuthClient:
        """Accept a disabled client again (its secret or keys are unchanged)."""
        return self._set_enabled(client_id, True)

    def _set_enabled(self, client_id: str, enabled: bool) -> OAuthClient:
        row = self.row(client_id)
        row.enabled = enabled
        self._audit.record(f"client.{'enable' if enabled else 'disable'}", f"client:{client_id}")
        db.session.commit()
        self.forget(client_id)
        return row

    def forget(self, client_id: str) -> None:
        self._cache.pop(client_id)

    def forget_all(self) -> None:
        self._cache.clear()
