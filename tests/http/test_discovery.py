"""Keys and discovery documents (docs/configuration.md)."""

from __future__ import annotations

import json
import time

import jwt
from flask import Flask
from flask.testing import FlaskClient

from identity.extensions import services


def test_jwks_is_valid_and_verifies_a_signed_token(app: Flask, client: FlaskClient) -> None:
    """The JWKS key verifies a token from the one signer, by kid."""
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    keys = response.get_json()["keys"]
    assert len(keys) == 1
    with app.app_context():
        token = services().keys.sign({"sub": "x", "iat": int(time.time())}, "JWT")
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "RS256", "typ": "JWT", "kid": keys[0]["kid"]}
    public = jwt.PyJWK.from_json(json.dumps(keys[0])).key
    assert jwt.decode(token, public, algorithms=["RS256"])["sub"] == "x"


def test_metadata_rfc8414(client: FlaskClient) -> None:
    body = client.get("/.well-known/oauth-authorization-server").get_json()
    assert body["issuer"] == "http://identity.test"
    assert body["jwks_uri"] == "http://identity.test/.well-known/jwks.json"
    assert body["token_endpoint"] == "http://identity.test/oauth/token"
    assert body["introspection_endpoint"] == "http://identity.test/introspect"
    assert body["revocation_endpoint"] == "http://identity.test/revoke"
    assert body["grant_types_supported"] == ["client_credentials"]
    methods = {"client_secret_basic", "client_secret_post", "private_key_jwt"}
    for endpoint in ("token", "introspection", "revocation"):
        assert set(body[f"{endpoint}_endpoint_auth_methods_supported"]) == methods
        assert body[f"{endpoint}_endpoint_auth_signing_alg_values_supported"] == ["RS256", "ES256"]
    assert "upstream:read" in body["scopes_supported"]


def test_inbox_public_key_pem_matches_jwks(app: Flask, client: FlaskClient) -> None:
    response = client.get("/inbox/public-key.pem")
    assert response.status_code == 200
    pem = response.get_data(as_text=True)
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    with app.app_context():
        token = services().keys.sign({"sub": "user:1"}, "JWT")
    assert jwt.decode(token, pem, algorithms=["RS256"])["sub"] == "user:1"


def test_health_ready_metrics(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"]["database"] == "ok"
    client.get("/healthz")
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert b"identity_http_requests_total" in metrics.data


def test_openapi_document_lists_endpoints(client: FlaskClient) -> None:
    doc = client.get("/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    for path in (
        "/.well-known/jwks.json",
        "/.well-known/oauth-authorization-server",
        "/inbox/public-key.pem",
        "/healthz",
        "/readyz",
        "/metrics",
    ):
        assert path in doc["paths"], path
