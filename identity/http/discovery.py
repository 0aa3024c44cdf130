"""Discovery: server metadata (RFC 8414) and the inbox PEM (the JWKS is a core:
``identity.core.discovery``)."""

from __future__ import annotations

from flask import Response, jsonify
from flask.views import MethodView
from flask_smorest import Blueprint

from identity.crypto.client_jwks import ASSERTION_ALGS
from identity.crypto.keys import public_pem
from identity.extensions import services
from identity.http.schemas import MetadataSchema
from identity.oauth.client_auth import AUTH_METHODS

blp = Blueprint("discovery", __name__, description="Keys and discovery")


def _cacheable(response: Response) -> Response:
    response.headers["Cache-Control"] = f"public, max-age={services().settings.jwks_max_age}"
    return response


@blp.route("/.well-known/oauth-authorization-server")
class Metadata(MethodView):
    @blp.response(200, MetadataSchema)
    def get(self) -> Response:
        """RFC 8414 authorization server metadata."""
        issuer = services().settings.issuer
        return _cacheable(
            jsonify(
                {
                    "issuer": issuer,
                    "token_endpoint": f"{issuer}/oauth/token",
                    "jwks_uri": f"{issuer}/.well-known/jwks.json",
                    "introspection_endpoint": f"{issuer}/introspect",
                    "revocation_endpoint": f"{issuer}/revoke",
                    "grant_types_supported": ["client_credentials"],
                    "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
                    "introspection_endpoint_auth_methods_supported": list(AUTH_METHODS),
                    "revocation_endpoint_auth_methods_supported": list(AUTH_METHODS),
                    "response_types_supported": [],
                    # Every scope of every API (RFC 8414 §2), this service's first.
                    "scopes_supported": services().apis.registry().scopes_in_use(),
                    # RFC 8414 §2: the algorithms of private_key_jwt client assertions
                    "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGS),
                    "introspection_endpoint_auth_signing_alg_values_supported": list(
                        ASSERTION_ALGS
                    ),
                    "revocation_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGS),
                }
            )
        )


@blp.route("/inbox/public-key.pem")
class InboxPublicKey(MethodView):
    @blp.response(200, content_type="application/x-pem-file")
    def get(self) -> Response:
        """The active signing key's public half as PEM, for consoles that take a PEM."""
        response = Response(
            public_pem(services().keys.active_public_key()), mimetype="application/x-pem-file"
        )
        return _cacheable(response)
