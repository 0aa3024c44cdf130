"""Action helpers for the APIs (resource servers) tests: an admin caller, APIs, grants."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import access_token, bearer
from tests.partners_helpers import CC, basic

ORDERS = {
    "name": "orders",
    "audience": "https://orders.example.com",
    "scopes": ["orders:read", "orders:write"],
}


def admin(app: Flask) -> dict[str, str]:
    return bearer(access_token(app, "admin"))


def add_api(app: Flask, **body: Any) -> Any:
    """POST /admin/apis with ``ORDERS`` overridden by ``body``; returns the response."""
    return app.test_client().post("/admin/apis", headers=admin(app), json={**ORDERS, **body})


def grant(app: Flask, client_id: str, api: str, scope: str) -> Any:
    return app.test_client().put(
        f"/admin/clients/{client_id}/grants/{api}", headers=admin(app), json={"scope": scope}
    )


def token_for(http: FlaskClient, client: Any, **params: Any) -> Any:
    """POST /access_token with Basic auth and ``params`` (lists repeat a parameter)."""
    return http.post(
        "/access_token",
        data={"grant_type": CC, **params},
        headers=basic(client.client_id, client.client_secret),
    )
