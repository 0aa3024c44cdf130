"""Discovery: server metadata (RFC 8414) and the inbox PEM (the JWKS is a core:
``identity.core.discovery``)."""

from __future__ import annotations

from flask import Response, jsonify
from flask.views import MethodView
from flask_smorest import Blueprint

from identity.crypto.keys import public_pem
from identity.extensions import services
from identity.http.schemas import MetadataSchema

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
                    "token_endpoint_auth_methods_supported": [
                        "client_secret_basic",
                        "client_secret_post",
                    ],
                    "introspection_endpoint_auth_methods_supported": [
                        "client_secret_basic",
                        "client_secret_post",
                    ],
                    "revocation_endpoint_auth_methods_supported": [
                        "client_secret_basic",
                        "client_secret_post",
                    ],
                    "response_types_supported": [],
                    # Every scope of every API (RFC 8414 §2), this service's first.
                    "scopes_supported": services().apis.registry().scopes_in_use(),
                    "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
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
