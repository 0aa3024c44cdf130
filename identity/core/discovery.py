"""``GET /healthz`` and ``GET /.well-known/jwks.json`` (docs/configuration.md): polled by every
load balancer and every token verifier, so they skip the framework as the signing endpoints do."""

from __future__ import annotations

import json

from identity.core.http import Request, Response, json_response
from identity.core.routes import Endpoint, Operation
from identity.core.schemas import HealthSchema, JwksSchema
from identity.services.keys import KeyService

HEALTHY = json_response(200, {"status": "ok"})


class DiscoveryEndpoints:
    def __init__(self, keys: KeyService, max_age: int) -> None:
        self.keys = keys
        self.cache_control = ("Cache-Control", f"public, max-age={max_age}")
        self._jwks: tuple[str, bytes] = ("", b"")  # (document, its JSON) of the last answer

    def __repr__(self) -> str:
        return "DiscoveryEndpoints()"

    def endpoints(self) -> list[Endpoint]:
        health = Operation(self.health, "200 while the process serves", "ops", HealthSchema)
        jwks = Operation(self.jwks, "The public signing keys (RFC 7517)", "discovery", JwksSchema)
        return [
            Endpoint("/healthz", {"GET": health}),
            Endpoint("/.well-known/jwks.json", {"GET": jwks}),
        ]

    def health(self, request: Request) -> Response:
        return Response(200, HEALTHY.body)

    def jwks(self, request: Request) -> Response:
        """RFC 7517 set: active, next (pre-published) and retired-but-valid keys."""
        document = json.dumps(self.keys.jwks(), separators=(",", ":"))
        if document != self._jwks[0]:
            self._jwks = (document, document.encode() + b"\n")
        return Response(200, self._jwks[1], [self.cache_control])
