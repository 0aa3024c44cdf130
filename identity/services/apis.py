"""APIs (resource servers, RFC 8707): their audience, scope names, token lifetime and algorithm.

This service is the built-in API ``identity``: a row (grants refer to it) whose audience is
IDENTITY_ACCESS_AUDIENCE, whose scopes are ``identity.scopes`` and whose lifetime is
IDENTITY_ACCESS_TOKEN_TTL, all read at run time; it cannot be changed or removed.

The token endpoint resolves ``resource`` values against ``registry()``, remembered in this
process for IDENTITY_CLIENT_CACHE_SECONDS like clients; a change made here is seen at once
(``on_change`` also drops the client cache, whose records carry the grants).
"""

from __future__ import annotations

import builtins
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from identity import limits
from identity.config import Settings
from identity.crypto.keys import ALGORITHMS, ES256, RS256
from identity.errors import BadRequest, Conflict, NotFound
from identity.models.apis import ApiResource, ClientGrant
from identity.models.base import db
from identity.scopes import BUILTIN_API, KNOWN_SCOPES, SCOPE_TOKEN
from identity.services.audit import AuditLog
from identity.services.keys import KeyService

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
NAME_RULE = "1-100 characters: letters, digits, '.', '_', '-'"
DEFAULT_LIFETIME = 3600
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*$")  # RFC 3986 §3.1


@dataclass(frozen=True)
class Api:
    name: str
    audience: str
    scopes: tuple[str, ...]
    lifetime: int
    alg: str
    builtin: bool = False
    row_id: int = field(default=0, repr=False, compare=False)

    def public(self) -> dict[str, object]:
        return {
            "name": self.name,
            "audience": self.audience,
            "scopes": list(self.scopes),
            "lifetime": self.lifetime,
            "alg": self.alg,
        }

    def grantable(self, scope: str) -> int:
        """This API's row id, for a grant of ``scope``; 400 unless it defines every token."""
        unknown = [token for token in dict.fromkeys(scope.split()) if token not in self.scopes]
        if unknown:
            raise BadRequest(
                f"API {self.name!r} does not define these scopes",
                {
                    "scope": [
                        f"unknown scope(s) on {self.name}: {', '.join(unknown)}; "
                        f"allowed: {', '.join(self.scopes)}"
                    ]
                },
            )
        return self.row_id


@dataclass(frozen=True)
class Registry:
    """Every API at one moment: by name and by audience."""

    by_name: dict[str, Api]
    by_audience: dict[str, Api]

    @classmethod
    def of(cls, apis: Iterable[Api]) -> Registry:
        listed = list(apis)
        return cls({a.name: a for a in listed}, {a.audience: a for a in listed})

    def scopes_in_use(self) -> list[str]:
        """Every scope name of every API, each once, the built-in API's first."""
        return list(dict.fromkeys(s for api in self.by_name.values() for s in api.scopes))


# --- validation (the one place; the HTTP schemas and the CLI only check types) --------------
def check_audience(audience: object) -> str:
    """RFC 8707 §2: an absolute URI (RFC 3986 §4.3), no fragment; URLs need a host."""
    if not isinstance(audience, str) or limits.API_AUDIENCE.problem(audience):
        raise _invalid("audience", f"an absolute URI of {limits.API_AUDIENCE.rule()}")
    if any(c.isspace() or not c.isprintable() for c in audience) or not audience.isascii():
        raise _invalid("audience", "an absolute URI without spaces (percent-encode the rest)")
    if "#" in audience:
        raise _invalid("audience", "must not have a fragment (RFC 8707 §2)")
    try:
        parts = urlsplit(audience)
    except ValueError:
        raise _invalid("audience", "not a URI") from None
    if not parts.scheme or not SCHEME.match(parts.scheme) or not audience[len(parts.scheme) + 1 :]:
        raise _invalid("audience", "must be absolute, e.g. https://orders.example.com")
    if parts.scheme.lower() in ("http", "https") and not parts.hostname:
        raise _invalid("audience", "an http(s) audience needs a host")
    return audience


def check_scopes(scopes: object) -> tuple[str, ...]:
    """1-200 scope names, each 1-128 RFC 6749 §3.3 characters; duplicates are folded."""
    if isinstance(scopes, str) or not isinstance(scopes, list | tuple):
        raise _invalid("scopes", "a list of scope names")
    bad = [
        s
        for s in scopes
        if not isinstance(s, str) or not SCOPE_TOKEN.fullmatch(s) or limits.SCOPE_NAME.problem(s)
    ]
    if bad:
        raise _invalid(
            "scopes",
            f"each {limits.SCOPE_NAME.rule()}: printable, without space, '\"' or '\\'"
            " (RFC 6749 §3.3)",
        )
    unique = tuple(dict.fromkeys(scopes))
    if limits.API_SCOPES.problem(len(unique)):
        raise _invalid("scopes", limits.API_SCOPES.rule())
    return unique


def check_lifetime(lifetime: object) -> int:
    if (
        isinstance(lifetime, bool)
        or not isinstance(lifetime, int)
        or limits.API_LIFETIME.problem(lifetime)
    ):
        raise _invalid("lifetime", limits.API_LIFETIME.rule())
    return lifetime


def check_alg(alg: object) -> str:
    if alg not in ALGORITHMS:
        raise _invalid("alg", f"one of {', '.join(ALGORITHMS)}")
    return str(alg)


def check_name(name: object) -> str:
    if not isinstance(name, str) or not NAME.match(name):
        raise _invalid("name", NAME_RULE)
    return name


def _invalid(field: str, rule: str) -> BadRequest:
    return BadRequest("Invalid API", {field: [rule]})


class ApiService:
    def __init__(self, settings: Settings, keys: KeyService, audit: AuditLog) -> None:
        self.settings = settings
        self.keys = keys
        self._audit = audit
        self._cache_seconds = settings.client_cache_seconds
        self._registry: tuple[Registry, float] | None = None
        self._listeners: list[Callable[[], None]] = []

    def __repr__(self) -> str:
        return "ApiService(***)"

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every change here (the client cache holds grants)."""
        self._listeners.append(listener)

    # --- reading ------------------------------------------------------------------------------
    def registry(self, fresh: bool = False) -> Registry:
        """Every API, from the in-process cache when fresh (the token endpoint's read).

        ``fresh``: the caller missed an API (one just added elsewhere): read it again, so that
        a new API works at once. Only an authenticated client's token request gets here, and
        the table is small."""
        cached = self._registry
        now = time.monotonic()
        if not fresh and cached is not None and now - cached[1] < self._cache_seconds:
            return cached[0]
        registry = Registry.of(self.list())
        db.session.commit()  # end the read transaction
        self._registry = (registry, now)
        return registry

    def list(self) -> builtins.list[Api]:
        rows = list(db.session.scalars(select(ApiResource).order_by(ApiResource.id)))
        if not any(row.builtin for row in rows):
            rows.insert(0, self._builtin_row())
        return [self._api(row) for row in rows]

    def get(self, name: str) -> Api:
        return self._api(self._row(name))

    def audiences(self) -> frozenset[str]:
        return frozenset(self.registry().by_audience)

    # --- managing -----------------------------------------------------------------------------
    def add(
        self,
        name: object,
        audience: object,
        scopes: object,
        lifetime: object = DEFAULT_LIFETIME,
        alg: object = RS256,
    ) -> Api:
        """A new API; 409 when its name or audience is taken (the database decides, so also
        between concurrent requests); an ES256 API gets the ring its first ES256 key."""
        api = Api(
            check_name(name),
            check_audience(audience),
            check_scopes(scopes),
            check_lifetime(DEFAULT_LIFETIME if lifetime is None else lifetime),
            check_alg(RS256 if alg is None else alg),
        )
        if api.audience == self.settings.access_audience:
            raise Conflict(f"The audience belongs to the built-in API {BUILTIN_API!r}")
        db.session.add(
            ApiResource(
                name=api.name,
                audience=api.audience,
                scopes=" ".join(api.scopes),
                lifetime=api.lifetime,
                alg=api.alg,
                builtin=False,
            )
        )
        self._audit.record("api.create", f"api:{api.name}")
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            raise Conflict("An API with this name or audience already exists") from None
        self._changed()
        if api.alg == ES256:
            self.keys.ensure(ES256)
        return api

    def update(self, name: str, scopes: object = None, lifetime: object = None) -> Api:
        """New scope names and/or lifetime; a scope taken away is removed from every grant."""
        row = self._changeable(name)
        if lifetime is not None:
            row.lifetime = check_lifetime(lifetime)
        if scopes is not None:
            kept = check_scopes(scopes)
            row.scopes = " ".join(kept)
            self._narrow_grants(row.id, set(kept))
        self._audit.record("api.update", f"api:{row.name}")
        db.session.commit()
        self._changed()
        return self._api(row)

    def remove(self, name: str) -> None:
        """Remove an API and every grant on it (tokens already issued live until they expire)."""
        row = self._changeable(name)
        db.session.execute(delete(ClientGrant).where(ClientGrant.api_id == row.id))
        db.session.delete(row)
        self._audit.record("api.remove", f"api:{row.name}")
        db.session.commit()
        self._changed()

    def ensure_keys(self) -> builtins.list[str]:
        """An active key for every algorithm an API uses (``identity init``)."""
        algs = {api.alg for api in self.list()} - {RS256}
        db.session.commit()  # end the read transaction before the key ring's own
        return [kid for alg in sorted(algs) if (kid := self.keys.ensure(alg))]

    # --- helpers ------------------------------------------------------------------------------
    def _api(self, row: ApiResource) -> Api:
        if row.builtin:
            return Api(
                row.name,
                self.settings.access_audience,
                KNOWN_SCOPES,
                self.settings.access_token_ttl,
                RS256,
                builtin=True,
                row_id=row.id,
            )
        return Api(
            row.name,
            str(row.audience),
            tuple(row.scopes.split()),
            row.lifetime or DEFAULT_LIFETIME,
            row.alg,
            row_id=row.id,
        )

    def _row(self, name: str) -> ApiResource:
        row = db.session.scalar(select(ApiResource).where(ApiResource.name == name))
        if row is None and name == BUILTIN_API:
            row = self._builtin_row()
        if row is None:
            raise NotFound(f"No API named {name!r}")
        return row  # type: ignore[no-any-return]

    def _builtin_row(self) -> ApiResource:
        """The built-in row, put back if it is missing (migration 0004 makes it; a wiped table
        must not leave the service without its own API)."""
        db.session.add(ApiResource(name=BUILTIN_API, audience=None, scopes="", builtin=True))
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()  # another worker put it back first
        return db.session.scalars(select(ApiResource).where(ApiResource.builtin)).one()

    def _changeable(self, name: str) -> ApiResource:
        row = self._row(name)
        if row.builtin:
            raise Conflict(
                f"The built-in API {name!r} cannot be changed or removed (its audience and "
                "lifetime are IDENTITY_ACCESS_AUDIENCE and IDENTITY_ACCESS_TOKEN_TTL)"
            )
        return row

    def _narrow_grants(self, api_id: int, kept: set[str]) -> None:
        for grant in db.session.scalars(select(ClientGrant).where(ClientGrant.api_id == api_id)):
            remaining = [s for s in grant.scopes.split() if s in kept]
            if remaining:
                grant.scopes = " ".join(remaining)
            else:
                db.session.delete(grant)  # no scopes left: no grant

    def _changed(self) -> None:
        self._registry = None
        for listener in self._listeners:
            listener()
