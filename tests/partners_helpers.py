"""Action helpers for the partners tests: OAuth clients, token requests, decoded tokens."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

import jwt
from flask import Flask
from flask.testing import FlaskClient

from identity.crypto.hashing import hash_secret
from identity.extensions import services
from identity.models import OAuthClient
from identity.models.base import db

CC = "client_credentials"


def make_client(app: Flask, scope: str = "profile:read", lifetime: int | None = None) -> Any:
    """A new OAuth client (``.client_id``, ``.client_secret``) through the service."""
    with app.app_context():
        return services().clients.create("partner", scope, lifetime)


def insert_client(app: Flask, client_id: str, secret: str, scope: str) -> None:
    """A client with a chosen id and secret (e.g. ones that need form-urlencoding)."""
    with app.app_context():
        now = datetime.now(UTC)
        db.session.add(
            OAuthClient(
                client_id=client_id,
                name="chosen",
                secret_hash=hash_secret(secret, services().settings.hash_pepper),
                enabled=True,
                created_at=now,
                secret_rotated_at=now,
            )
        )
        db.session.commit()
        services().clients.grant(client_id, "identity", scope)


def basic(client_id: str, secret: str) -> dict[str, str]:
    """``client_secret_basic`` with the RFC 6749 §2.3.1 form-urlencoding of id and secret."""
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def token(http: FlaskClient, client: Any, scope: str | None = None) -> Any:
    """POST /access_token with Basic authentication; returns the response."""
    data = {"grant_type": CC, **({"scope": scope} if scope is not None else {})}
    return http.post(
        "/access_token", data=data, headers=basic(client.client_id, client.client_secret)
    )


def access_token_for(http: FlaskClient, client: Any, scope: str | None = None) -> str:
    response = token(http, client, scope)
    assert response.status_code == 200, response.get_json()
    return str(response.get_json()["access_token"])


def decode(app: Flask, token_: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims, verified with our active public key."""
    with app.app_context():
        key = services().keys.active_public_key()
        settings = services().settings
        claims = jwt.decode(
            token_,
            key,
            algorithms=["RS256"],
            audience=settings.access_audience,
            issuer=settings.issuer,
        )
    return jwt.get_unverified_header(token_), claims
