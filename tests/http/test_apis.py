"""APIs (resource servers) and grants through /admin/apis, PUT .../grants/<api> and the CLI."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from identity.scopes import KNOWN_SCOPES
from tests.apis_helpers import ORDERS, add_api, admin, grant
from tests.conftest import service_error
from tests.partners_helpers import make_client

BUILTIN = {
    "name": "identity",
    "audience": "http://identity.test/api",
    "scopes": list(KNOWN_SCOPES),
    "lifetime": 3600,
    "alg": "RS256",
}


def listed(app: Flask) -> list[dict[str, Any]]:
    response = app.test_client().get("/admin/apis", headers=admin(app))
    assert response.status_code == 200
    return response.get_json()["apis"]  # type: ignore[no-any-return]


def client_grants(app: Flask, client_id: str) -> dict[str, str]:
    response = app.test_client().get(f"/admin/clients/{client_id}", headers=admin(app))
    return response.get_json()["grants"]  # type: ignore[no-any-return]


def test_the_built_in_api_is_listed(app: Flask) -> None:
    """A fresh install lists exactly the built-in API, with the configured audience."""
    assert listed(app) == [BUILTIN]


def test_add_then_show(app: Flask, client: FlaskClient) -> None:
    """201 with the five fields; lifetime and alg default to 3600 and RS256."""
    response = add_api(app)
    assert response.status_code == 201
    assert response.get_json() == {**ORDERS, "lifetime": 3600, "alg": "RS256"}
    shown = client.get("/admin/apis/orders", headers=admin(app))
    assert shown.status_code == 200 and shown.get_json() == response.get_json()
    assert [api["name"] for api in listed(app)] == ["identity", "orders"]


@pytest.mark.parametrize(
    "body",
    [
        {"lifetime": 60, "scopes": ["s" * 128]},
        {"lifetime": 86_400, "alg": "ES256"},
        {"audience": "urn:example:orders"},
    ],
)
def test_limits_are_inclusive(app: Flask, body: dict[str, Any]) -> None:
    """The edges of each rule are accepted."""
    assert add_api(app, **body).status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"audience": "/orders"}, "audience"),  # relative
        ({"audience": "orders.example.com"}, "audience"),  # no scheme: relative
        ({"audience": "https://orders.example.com/#v1"}, "audience"),  # fragment, RFC 8707 §2
        ({"audience": "https:///nohost"}, "audience"),
        ({"audience": "https://orders example.com"}, "audience"),
        ({"lifetime": 59}, "lifetime"),
        ({"lifetime": 86_401}, "lifetime"),
        ({"lifetime": "600"}, "lifetime"),
        ({"alg": "HS256"}, "alg"),
        ({"alg": "none"}, "alg"),
        ({"scopes": [""]}, "scopes"),
        ({"scopes": ["s" * 129]}, "scopes"),
        ({"scopes": ["has space"]}, "scopes"),
        ({"scopes": []}, "scopes"),
        ({"scopes": "orders:read"}, "scopes"),
        ({"name": ""}, "name"),
        ({"name": "a/b"}, "name"),
    ],
)
def test_bad_input_is_400_and_creates_nothing(app: Flask, body: dict[str, Any], field: str) -> None:
    """Each broken rule is a 400 naming its field; the list is unchanged."""
    response = add_api(app, **body)
    assert response.status_code == 400, response.get_json()
    error = service_error(response)
    assert error["messageId"] == "BAD_REQUEST"
    assert field in error["validationErrors"]
    assert listed(app) == [BUILTIN]


@pytest.mark.parametrize(
    "body",
    [
        {"name": "orders2"},  # same audience
        {"audience": "https://other.example.com"},  # same name
    ],
)
def test_duplicate_name_or_audience_is_409(app: Flask, body: dict[str, Any]) -> None:
    assert add_api(app).status_code == 201
    response = add_api(app, **body)
    assert response.status_code == 409
    assert service_error(response)["messageId"] == "CONFLICT"
    assert len(listed(app)) == 2


def test_the_built_in_audience_is_taken(app: Flask) -> None:
    response = add_api(app, audience=BUILTIN["audience"])
    assert response.status_code == 409
    assert listed(app) == [BUILTIN]


def test_concurrent_creates_of_one_audience_give_one_api(make_app: Any) -> None:
    """Two instances adding the same audience at once: one 201, one 409 (the database decides)."""
    first, second = make_app(), make_app()
    calls = [(first, "orders-a"), (second, "orders-b")] * 3

    def create(call: tuple[Flask, str]) -> int:
        app, name = call
        return int(add_api(app, name=f"{name}-{id(call)}").status_code)

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = sorted(pool.map(create, calls))
    assert statuses == [201, 409, 409, 409, 409, 409]
    assert [api["audience"] for api in listed(first)].count(ORDERS["audience"]) == 1


def test_the_built_in_api_cannot_be_removed_or_changed(app: Flask, client: FlaskClient) -> None:
    """409 CONFLICT for DELETE and PATCH; it stays as it was."""
    assert client.delete("/admin/apis/identity", headers=admin(app)).status_code == 409
    for body in ({"scopes": ["admin"]}, {"lifetime": 600}):
        response = client.patch("/admin/apis/identity", headers=admin(app), json=body)
        assert response.status_code == 409
        assert service_error(response)["messageId"] == "CONFLICT"
    assert listed(app) == [BUILTIN]


def test_update_scopes_and_lifetime(app: Flask, client: FlaskClient) -> None:
    """PATCH changes scopes and lifetime; audience and alg cannot be patched (400)."""
    add_api(app)
    response = client.patch(
        "/admin/apis/orders", headers=admin(app), json={"scopes": ["orders:read"], "lifetime": 900}
    )
    assert response.status_code == 200
    assert response.get_json()["scopes"] == ["orders:read"]
    assert response.get_json()["lifetime"] == 900
    for body in ({"audience": "https://x.example"}, {"alg": "ES256"}, {"lifetime": 10}):
        assert client.patch("/admin/apis/orders", headers=admin(app), json=body).status_code == 400
    assert client.get("/admin/apis/orders", headers=admin(app)).get_json()["lifetime"] == 900


def test_removing_a_scope_takes_it_out_of_every_grant(app: Flask, client: FlaskClient) -> None:
    """A grant keeps its other scopes; a grant left with none is gone."""
    add_api(app)
    both, write_only = make_client(app, ""), make_client(app, "")
    assert grant(app, both.client_id, "orders", "orders:read orders:write").status_code == 200
    assert grant(app, write_only.client_id, "orders", "orders:write").status_code == 200
    client.patch("/admin/apis/orders", headers=admin(app), json={"scopes": ["orders:read"]})
    assert client_grants(app, both.client_id) == {"orders": "orders:read"}
    assert client_grants(app, write_only.client_id) == {}


def test_removing_an_api_removes_its_grants(app: Flask, client: FlaskClient) -> None:
    add_api(app)
    partner = make_client(app, "profile:read")
    grant(app, partner.client_id, "orders", "orders:read")
    assert client.delete("/admin/apis/orders", headers=admin(app)).status_code == 204
    assert client.get("/admin/apis/orders", headers=admin(app)).status_code == 404
    assert client_grants(app, partner.client_id) == {"identity": "profile:read"}


def test_grants(app: Flask) -> None:
    """PUT sets the grant (200), an undefined scope is 400 and changes nothing, empty removes."""
    add_api(app)
    partner = make_client(app, "profile:read")
    response = grant(app, partner.client_id, "orders", "orders:read")
    assert response.status_code == 200
    assert response.get_json() == {
        "client_id": partner.client_id,
        "api": "orders",
        "scope": "orders:read",
    }
    refused = grant(app, partner.client_id, "orders", "orders:read orders:delete")
    assert refused.status_code == 400
    assert "orders:delete" in service_error(refused)["validationErrors"]["scope"][0]
    refused = grant(app, partner.client_id, "identity", "orders:read")  # another API's scope
    assert refused.status_code == 400
    assert client_grants(app, partner.client_id) == {
        "identity": "profile:read",
        "orders": "orders:read",
    }
    assert grant(app, partner.client_id, "orders", "").get_json()["scope"] == ""
    assert client_grants(app, partner.client_id) == {"identity": "profile:read"}


def test_grant_on_unknown_client_or_api_is_404(app: Flask) -> None:
    partner = make_client(app)
    assert grant(app, "no-such-client", "identity", "admin").status_code == 404
    assert grant(app, partner.client_id, "no-such-api", "x").status_code == 404


def test_admin_apis_need_an_admin_token(app: Flask, client: FlaskClient) -> None:
    assert client.get("/admin/apis").status_code == 401
    from tests.conftest import access_token, bearer

    other = bearer(access_token(app, "profile:read"))
    assert client.get("/admin/apis", headers=other).status_code == 403


def test_discovery_lists_every_api_scope(app: Flask, client: FlaskClient) -> None:
    """RFC 8414 scopes_supported: the built-in scopes, then each API's."""
    add_api(app)
    metadata = client.get("/.well-known/oauth-authorization-server").get_json()
    assert metadata["scopes_supported"] == [*KNOWN_SCOPES, "orders:read", "orders:write"]


# --- the command line ----------------------------------------------------------------------------
def cli(runner: Any, *args: str) -> Any:
    return runner.invoke(args=["identity", *args])


def test_cli_apis_round_trip(app: Flask, runner: Any) -> None:
    """add, show, list, update, remove with --json: one object each, the contract's fields."""
    added = cli(
        runner, "apis", "add", "--name", "crm", "--audience", "https://crm.example.com",
        "--scope", "crm:read crm:write", "--lifetime", "600", "--alg", "ES256", "--json",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    crm = {
        "name": "crm",
        "audience": "https://crm.example.com",
        "scopes": ["crm:read", "crm:write"],
        "lifetime": 600,
        "alg": "ES256",
    }
    assert json.loads(added.output) == crm
    assert json.loads(cli(runner, "apis", "show", "crm", "--json").output) == crm
    assert json.loads(cli(runner, "apis", "list", "--json").output) == {"apis": [BUILTIN, crm]}
    updated = cli(runner, "apis", "update", "crm", "--scope", "crm:read", "--json")
    assert json.loads(updated.output)["scopes"] == ["crm:read"]
    assert cli(runner, "apis", "remove", "crm").exit_code == 0
    assert cli(runner, "apis", "show", "crm").exit_code != 0


def test_cli_refuses_bad_input_and_the_built_in_api(app: Flask, runner: Any) -> None:
    """Exit status 1 with a message; nothing created or removed."""
    bad = cli(runner, "apis", "add", "--name", "x", "--audience", "/x", "--scope", "a")
    assert bad.exit_code == 1
    assert cli(runner, "apis", "remove", "identity").exit_code == 1
    assert json.loads(cli(runner, "apis", "list", "--json").output) == {"apis": [BUILTIN]}


def test_cli_clients_create_on_an_api_and_grant(app: Flask, runner: Any) -> None:
    """`clients create --api` grants on that API; `clients grant` sets another grant."""
    add_api(app)
    created = json.loads(
        cli(
            runner, "clients", "create", "--name", "shop", "--api", "orders",
            "--scope", "orders:read", "--json",
        ).output
    )  # fmt: skip
    assert created["scope"] == "orders:read"
    granted = cli(
        runner, "clients", "grant", created["client_id"], "--api", "identity",
        "--scope", "profile:read", "--json",
    )  # fmt: skip
    assert json.loads(granted.output) == {
        "client_id": created["client_id"],
        "api": "identity",
        "scope": "profile:read",
    }
    assert client_grants(app, created["client_id"]) == {
        "orders": "orders:read",
        "identity": "profile:read",
    }
    refused = cli(
        runner, "clients", "grant", created["client_id"], "--api", "orders", "--scope", "nope"
    )
    assert refused.exit_code == 1
