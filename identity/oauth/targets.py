"""Which API (resource server) a token is for: RFC 8707 resource indicators.

The grant asks a ``Targets`` for the API a request names (``resource``/``audience``) and what
the client holds on it. ``ApiTargets`` knows every registered API, this service's own
(``identity``) included.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from identity.oauth.errors import InvalidTarget
from identity.services.apis import Api, Registry
from identity.services.clients import ClientRecord


@dataclass(frozen=True, slots=True)
class Target:
    """The API a token is for and what the client holds on it."""

    api: str
    audience: str  # the token's ``aud``
    alg: str  # "RS256" | "ES256"
    lifetime: int  # the API's, already capped by the client's
    granted: tuple[str, ...]  # the client's scopes on this API, in the grant's order


class Targets(Protocol):
    def resolve(self, client: ClientRecord, resources: tuple[str, ...]) -> Target:
        """The API ``resources`` (every resource/audience value, in order) names for ``client``;
        ``InvalidTarget`` when it names none, several, or one the client holds no grant on."""
        ...


class ApiTargets:
    """The registered APIs (``identity.services.apis``): a resource names one by its exact
    audience; without one, the client's only granted API is meant."""

    def __init__(self, registry: Callable[[bool], Registry]) -> None:
        self.registry = registry  # registry(True): read again, an API seems missing

    def __repr__(self) -> str:
        return "ApiTargets()"

    def resolve(self, client: ClientRecord, resources: tuple[str, ...]) -> Target:
        api = self._named(client, resources) if resources else self._only(client)
        lifetime = min(api.lifetime, client.lifetime) if client.lifetime else api.lifetime
        return Target(api.name, api.audience, api.alg, lifetime, client.grants[api.name])

    def _named(self, client: ClientRecord, resources: tuple[str, ...]) -> Api:
        # RFC 8707 §2: one token, one audience; the same value twice is still two.
        if len(resources) > 1:
            raise InvalidTarget("Name one resource per token request")
        api = self.registry(False).by_audience.get(resources[0])
        if api is None or api.name not in client.grants:
            api = self.registry(True).by_audience.get(resources[0])  # added a moment ago?
        if api is None or api.name not in client.grants:
            raise InvalidTarget()
        return api

    def _only(self, client: ClientRecord) -> Api:
        by_name = self.registry(False).by_name
        if any(name not in by_name for name in client.grants):
            by_name = self.registry(True).by_name  # a grant on an API added a moment ago
        held = [by_name[name] for name in client.grants if name in by_name]
        if len(held) != 1:
            raise InvalidTarget(
                "The client holds grants on several APIs: name one with resource"
                if held
                else "The client holds no grant on any API"
            )
        return held[0]
