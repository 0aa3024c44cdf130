"""``GET /healthz`` and ``GET /.well-known/jwks.json`` (docs/configuration.md): polled by every
load balancer and every token verifier, so they skip the framework as the signing endpoints do."""

from __future__ import annotations

import json

from identity.core.http import Request, Response, by_method, json_response
from identity.services.keys import KeyService

HEALTHY = json_response(200, {"status": "ok"})


class DiscoveryEndpoints:
    oauth = False

    def __init__(self, keys: KeyService, max_age: int) -> None:
        self.keys = keys
        self.cache_control = ("Cache-Control", f"public, max-age={max_age}")
        self._jwks: tuple[str, bytes] = ("", b"")  # (document, its JSON) of the last answer

    def __repr__(self) -> str:
        return "DiscoveryEndpoints()"

    def health(self, request: Request) -> Response:
        """200 while the process serves."""
        return by_method(request, {"GET": lambda r: Response(200, HEALTHY.body)})

    def jwks(self, request: Request) -> Response:
        """RFC 7517 set: active, next (pre-published) and retired-but-valid keys."""
        return by_method(request, {"GET": self._jwks_document})

    def _jwks_document(self, request: Request) -> Response:
        document = json.dumps(self.keys.jwks(), separators=(",", ":"))
        if document != self._jwks[0]:
            self._jwks = (document, document.encode() + b"\n")
        return Response(200, self._jwks[1], [self.cache_control])
