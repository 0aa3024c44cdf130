"""Which API (resource server) a token is for: RFC 8707 resource indicators.

The grant asks a ``Targets`` for the API a request names (``resource``/``audience``) and what
the client holds on it. ``BuiltInTargets`` knows one API, this service's own (``identity``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from identity.oauth.errors import InvalidTarget
from identity.services.clients import ClientRecord

BUILT_IN_API = "identity"


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


class BuiltInTargets:
    """This service's own API only: audience ``IDENTITY_ACCESS_AUDIENCE``, RS256."""

    def __init__(self, audience: str, lifetime: int) -> None:
        self.audience = audience
        self.lifetime = lifetime

    def __repr__(self) -> str:
        return f"BuiltInTargets({self.audience!r})"

    def resolve(self, client: ClientRecord, resources: tuple[str, ...]) -> Target:
        if len(resources) > 1:
            raise InvalidTarget("Name one resource per token request")
        if resources and resources[0] != self.audience:
            raise InvalidTarget()
        lifetime = min(self.lifetime, client.lifetime) if client.lifetime else self.lifetime
        return Target(BUILT_IN_API, self.audience, "RS256", lifetime, client.scopes)
