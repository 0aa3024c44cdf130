"""Admin API for customer accounts: /admin/users (access token with scope admin)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from identity.models import Customer
from identity.models.base import db
from tests.conftest import access_token, bearer, service_error
from tests.customers_helpers import PASSWORD, customer_token, login


@pytest.fixture
def admin(app: Flask) -> dict[str, str]:
    return bearer(access_token(app, "admin"))


def create(client: FlaskClient, admin: dict[str, str], **body: Any) -> Any:
    return client.post("/admin/users", json={"password": PASSWORD, **body}, headers=admin)


def test_create_read_list(app: Flask, client: FlaskClient, admin: dict[str, str]) -> None:
    """POST creates (201, no password or hash in the body), GET reads one and lists all."""
    response = create(
        client, admin, username="Dana", email="dana@example.com", attributes={"tier": "gold"}
    )
    assert response.status_code == 201
    user = response.get_json()
    assert user["username"] == "dana" and user["email"] == "dana@example.com"
    assert user["attributes"] == {"tier": "gold"} and user["disabled"] is False
    assert "password" not in user and "password_hash" not in user
    one = client.get(f"/admin/users/{user['customer_id']}", headers=admin)
    assert one.status_code == 200 and one.get_json() == user
    listed = client.get("/admin/users", headers=admin).get_json()["users"]
    assert [u["customer_id"] for u in listed] == [user["customer_id"]]
    with app.app_context():
        stored = db.session.get(Customer, user["id"]).password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


@pytest.mark.parametrize("lookalike", ["DANA", "Ｄａｎａ", "dana", "ＤＡＮＡ"])
def test_lookalike_usernames_are_refused(
    client: FlaskClient, admin: dict[str, str], lookalike: str
) -> None:
    """Names equal after NFKC + case folding are one account: 409 CONFLICT."""
    assert create(client, admin, username="Dana").status_code == 201
    response = create(client, admin, username=lookalike)
    assert response.status_code == 409
    assert service_error(response)["messageId"] == "CONFLICT"


def test_ligature_and_sharp_s_fold_together(client: FlaskClient, admin: dict[str, str]) -> None:
    """Compatibility forms collide too: 'ﬁ' ligature = 'fi', 'ß' = 'ss' after case folding."""
    assert create(client, admin, username="ﬁnn").status_code == 201
    assert create(client, admin, username="FINN").status_code == 409
    assert create(client, admin, username="strauß").status_code == 201
    assert create(client, admin, username="STRAUSS").status_code == 409


def test_update_profile_and_password(client: FlaskClient, admin: dict[str, str]) -> None:
    """PATCH sets profile fields, replaces attributes and changes the password."""
    user = create(client, admin, username="erin", attributes={"a": 1}).get_json()
    before = customer_token(client, "erin")
    path = f"/admin/users/{user['customer_id']}"
    patched = client.patch(
        path,
        json={"name": "Erin", "locale": "en-GB", "attributes": {"b": 2}, "password": "new pw"},
        headers=admin,
    )
    assert patched.status_code == 200
    body = patched.get_json()
    assert body["name"] == "Erin" and body["locale"] == "en-GB" and body["attributes"] == {"b": 2}
    assert login(client, "erin", PASSWORD).status_code == 401
    assert login(client, "erin", "new pw").status_code == 200
    assert client.post("/inbox/token", headers=bearer(before)).status_code == 401  # sessions end


def test_delete_disables_and_ends_sessions(client: FlaskClient, admin: dict[str, str]) -> None:
    """DELETE disables: 204, logins refused, open tokens refused; PATCH can re-enable."""
    user = create(client, admin, username="finn").get_json()
    token = customer_token(client, "finn")
    path = f"/admin/users/{user['customer_id']}"
    assert client.delete(path, headers=admin).status_code == 204
    assert client.get(path, headers=admin).get_json()["disabled"] is True
    assert login(client, "finn").status_code == 401
    assert client.post("/inbox/token", headers=bearer(token)).status_code == 401
    assert client.patch(path, json={"disabled": False}, headers=admin).status_code == 200
    assert login(client, "finn").status_code == 200


@pytest.mark.parametrize(
    "body,field",
    [
        ({"username": "", "password": "x"}, "username"),
        ({"username": "g"}, "password"),
        ({"username": "g", "password": "x", "email": "not-an-email"}, "email"),
        ({"username": "g", "password": "x", "attributes": "nope"}, "attributes"),
        ({"username": "g\x00h", "password": "x"}, "username"),
        ({"username": "g", "password": "x", "name": "nul\x00"}, "name"),
    ],
)
def test_invalid_bodies_are_400(
    client: FlaskClient, admin: dict[str, str], body: dict[str, Any], field: str
) -> None:
    """Bad fields are 400 naming the field."""
    response = client.post("/admin/users", json=body, headers=admin)
    assert response.status_code == 400
    assert field in service_error(response)["validationErrors"]


def test_unknown_customer_is_404(client: FlaskClient, admin: dict[str, str]) -> None:
    """GET/PATCH/DELETE of an unknown customer ID: 404 NOT_FOUND."""
    path = "/admin/users/c1_unknown"
    assert client.get(path, headers=admin).status_code == 404
    assert client.get("/admin/users/c1_%00", headers=admin).status_code == 404
    assert client.patch(path, json={"name": "x"}, headers=admin).status_code == 404
    assert client.delete(path, headers=admin).status_code == 404


def test_admin_scope_is_required(app: Flask, client: FlaskClient) -> None:
    """No token 401; an access token without scope admin 403."""
    assert client.get("/admin/users").status_code == 401
    other = bearer(access_token(app, "profile:read"))
    assert client.get("/admin/users", headers=other).status_code == 403
    assert create(client, other, username="h").status_code == 403
