"""A real client gets a token: Authlib's OAuth2Session against a live server, verified with
PyJWKClient from our jwks_uri."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from flask import Flask
from werkzeug.serving import make_server

from tests.partners_helpers import make_client


@pytest.fixture
def live(make_app: Any) -> Iterator[tuple[Flask, str]]:
    """The app on a free loopback port, in a background thread; issuer = its own URL."""
    probe = make_server("127.0.0.1", 0, Flask("probe"))
    port = probe.server_port
    probe.server_close()
    base = f"http://127.0.0.1:{port}"
    app = make_app(issuer=base)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, base
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_oauth2session_gets_a_token_that_verifies_from_jwks(
    live: tuple[Flask, str], method: str
) -> None:
    """Discovery → token endpoint → JWT verified with the published key, by kid."""
    app, base = live
    partner = make_client(app, "profile:read inbox:issue")
    with requests.Session() as plain:
        metadata = plain.get(f"{base}/.well-known/oauth-authorization-server", timeout=5).json()
    with OAuth2Session(
        partner.client_id,
        partner.client_secret,
        scope="profile:read",
        token_endpoint_auth_method=method,
    ) as session:
        token = session.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")
    assert token["token_type"] == "Bearer" and token["scope"] == "profile:read"
    jwks = jwt.PyJWKClient(metadata["jwks_uri"], cache_keys=False)
    signing_key = jwks.get_signing_key_from_jwt(token["access_token"])
    claims = jwt.decode(
        token["access_token"],
        signing_key.key,
        algorithms=["RS256"],
        audience=f"{base}/api",
        issuer=base,
    )
    assert claims["client_id"] == partner.client_id
    assert jwt.get_unverified_header(token["access_token"])["typ"] == "at+jwt"


def test_wrong_secret_is_an_oauth_error_for_the_client(live: tuple[Flask, str]) -> None:
    """Authlib's client surfaces our invalid_client as an OAuthError."""
    from authlib.integrations.base_client import OAuthError

    app, base = live
    partner = make_client(app)
    with OAuth2Session(partner.client_id, "wrong") as session, pytest.raises(OAuthError) as err:
        session.fetch_token(f"{base}/oauth/token", grant_type="client_credentials")
    assert err.value.error == "invalid_client"
