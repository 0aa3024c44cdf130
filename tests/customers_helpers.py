"""Action helpers for the customer and inbox tests."""

from __future__ import annotations

from typing import Any

import jwt
from flask import Flask
from flask.testing import FlaskClient

from identity.extensions import services

PASSWORD = "correct horse battery staple"
ORIGIN = "https://app.example"


def create_customer(
    app: Flask, username: str = "alice", password: str = PASSWORD, **profile: Any
) -> dict[str, Any]:
    """Create an account through the service; returns its id, username and customer ID."""
    with app.app_context():
        customer = services().customers.create(username, password, **profile)
        return {
            "id": customer.id,
            "username": customer.username,
            "customer_id": customer.customer_id,
        }


def login(
    client: FlaskClient,
    username: str = "alice",
    password: str = PASSWORD,
    address: str = "127.0.0.1",
    **body: Any,
) -> Any:
    """POST /customer_authenticate from ``address``."""
    return client.post(
        "/customer_authenticate",
        json={"username": username, "password": password, **body},
        environ_overrides={"REMOTE_ADDR": address},
    )


def customer_token(client: FlaskClient, username: str = "alice", password: str = PASSWORD) -> str:
    response = login(client, username, password)
    assert response.status_code == 200, response.get_json()
    return str(response.get_json()["access_token"])


def claims_of(token: str) -> dict[str, Any]:
    """A JWT's payload, unverified (for asserting what was issued)."""
    return dict(jwt.decode(token, options={"verify_signature": False}))
