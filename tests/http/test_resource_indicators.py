"""Token requests for an API (RFC 8707 ``resource``, or ``audience``): aud, scope, lifetime,
alg, and RFC 8707 §2 ``invalid_target`` / RFC 6749 ``invalid_scope`` as docs/partners.md says."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.apis_helpers import ORDERS, add_api, grant, token_for
from tests.conftest import api_key
from tests.partners_helpers import basic, make_client

AUD = ORDERS["audience"]
OWN = "http://identity.test/api"


def partner_on_orders(app: Flask, scope: str = "orders:read orders:write", **kw: Any) -> Any:
    """A client holding ``scope`` on orders only."""
    add_api(app, **kw)
    partner = make_client(app, "", lifetime=kw.pop("client_lifetime", None))
    assert grant(app, partner.client_id, "orders", scope).status_code == 200
    return partner


def verified(client: FlaskClient, token: str, audience: str = AUD) -> dict[str, Any]:
    """Claims after verification against our JWKS, as a resource server does."""
    jwks = client.get("/.well-known/jwks.json").get_json()
    kid = jwt.get_unverified_header(token)["kid"]
    (jwk,) = [k for k in jwks["keys"] if k["kid"] == kid]
    key = jwt.PyJWK(jwk)
    return jwt.decode(token, key, algorithms=[jwk["alg"]], audience=audience)  # type: ignore[no-any-return]


def oauth_error(response: Any) -> str:
    body = response.get_json()
    assert set(body) == {"error", "error_description"}, body
    assert response.status_code == 400
    return str(body["error"])


@pytest.mark.parametrize("param", ["resource", "audience"])
def test_resource_names_the_api(app: Flask, client: FlaskClient, param: str) -> None:
    """aud is the API's audience; no scope asked: all held; the API's lifetime."""
    partner = partner_on_orders(app, lifetime=600)
    response = token_for(client, partner, **{param: AUD})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["scope"] == "orders:read orders:write" and body["expires_in"] == 600
    claims = verified(client, body["access_token"])
    assert claims["aud"] == AUD and claims["scope"] == "orders:read orders:write"
    assert claims["exp"] - claims["iat"] == 600
    assert jwt.get_unverified_header(body["access_token"])["typ"] == "at+jwt"


def test_the_only_granted_api_needs_no_resource(app: Flask, client: FlaskClient) -> None:
    partner = partner_on_orders(app, "orders:read")
    response = token_for(client, partner, scope="orders:read")
    assert response.status_code == 200
    assert verified(client, response.get_json()["access_token"])["aud"] == AUD


def test_es256_api_tokens_verify_with_the_published_ec_key(app: Flask, client: FlaskClient) -> None:
    """alg ES256 in the header; the JWKS holds the EC P-256 key (RFC 7638 kid)."""
    partner = partner_on_orders(app, alg="ES256")
    token = token_for(client, partner, resource=AUD).get_json()["access_token"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256" and header["typ"] == "at+jwt"
    keys = client.get("/.well-known/jwks.json").get_json()["keys"]
    (ec,) = [k for k in keys if k["kty"] == "EC"]
    assert set(ec) == {"kty", "crv", "x", "y", "alg", "use", "kid"}
    assert (ec["crv"], ec["alg"], ec["use"], ec["kid"]) == ("P-256", "ES256", "sig", header["kid"])
    from identity.crypto.keys import thumbprint

    assert thumbprint(ec) == ec["kid"]
    assert verified(client, token)["aud"] == AUD
    own = token_for(client, make_client(app, "profile:read")).get_json()["access_token"]
    assert jwt.get_unverified_header(own)["alg"] == "RS256"  # the built-in API stays RS256


@pytest.mark.parametrize(
    ("api_lifetime", "client_lifetime", "expected"),
    [(600, None, 600), (600, 300, 300), (120, 300, 120)],
)
def test_lifetime_is_the_apis_capped_by_the_clients(
    app: Flask, client: FlaskClient, api_lifetime: int, client_lifetime: int | None, expected: int
) -> None:
    add_api(app, lifetime=api_lifetime)
    partner = make_client(app, "", lifetime=client_lifetime)
    grant(app, partner.client_id, "orders", "orders:read")
    body = token_for(client, partner, resource=AUD).get_json()
    assert body["expires_in"] == expected


@pytest.mark.parametrize(
    "params",
    [
        {"resource": "https://unknown.example.com"},
        {"resource": "https://orders.example.com/"},  # matched exactly
        {"resource": OWN},  # an API the client holds no grant on
        {"resource": [AUD, AUD]},  # the same value twice
        {"resource": AUD, "audience": AUD},
        {"resource": "relative"},
    ],
)
def test_invalid_target(app: Flask, client: FlaskClient, params: dict[str, Any]) -> None:
    partner = partner_on_orders(app)
    assert oauth_error(token_for(client, partner, **params)) == "invalid_target"


def test_several_grants_need_a_resource(app: Flask, client: FlaskClient) -> None:
    """Granted on two APIs and naming none: invalid_target; naming one works."""
    partner = partner_on_orders(app)
    grant(app, partner.client_id, "identity", "profile:read")
    assert oauth_error(token_for(client, partner)) == "invalid_target"
    body = token_for(client, partner, resource=OWN).get_json()
    assert body["scope"] == "profile:read"


@pytest.mark.parametrize("scope", ["orders:delete", "orders:write", "profile:read"])
def test_invalid_scope(app: Flask, client: FlaskClient, scope: str) -> None:
    """Undefined on the API, defined but not held, or another API's: invalid_scope."""
    partner = partner_on_orders(app, "orders:read")
    assert oauth_error(token_for(client, partner, resource=AUD, scope=scope)) == "invalid_scope"


def test_another_apis_token_is_refused_here_but_introspects(
    app: Flask, client: FlaskClient
) -> None:
    """/getprofile answers 401 to an orders token; introspection shows its aud and scope."""
    partner = partner_on_orders(app, "orders:read")
    token = token_for(client, partner, resource=AUD).get_json()["access_token"]
    headers = {
        "Authorization": f"Bearer {token}",
        "X-API-Key": api_key(app, "profile:read"),
        "X-Customer-Id": "c1_none",
    }
    assert client.post("/getprofile", headers=headers).status_code == 401
    answer = client.post(
        "/introspect",
        data={"token": token},
        headers=basic(partner.client_id, partner.client_secret),
    ).get_json()
    assert answer["active"] is True
    assert (answer["aud"], answer["scope"]) == (AUD, "orders:read")


def test_a_removed_api_issues_no_more_tokens(app: Flask, client: FlaskClient) -> None:
    from tests.apis_helpers import admin

    partner = partner_on_orders(app)
    grant(app, partner.client_id, "identity", "profile:read")
    client.delete("/admin/apis/orders", headers=admin(app))
    assert oauth_error(token_for(client, partner, resource=AUD)) == "invalid_target"
    assert token_for(client, partner).get_json()["scope"] == "profile:read"  # the one left


def test_a_token_for_another_api_does_not_open_the_admin_api(
    app: Flask, client: FlaskClient
) -> None:
    """An API may define a scope named ``admin``: its tokens still carry its aud, so 401 here."""
    from tests.apis_helpers import admin

    partner = partner_on_orders(app, "admin", scopes=["admin"])
    token = token_for(client, partner, resource=AUD).get_json()["access_token"]
    response = client.get("/admin/apis", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert client.get("/admin/apis", headers=admin(app)).status_code == 200


def test_changes_reach_another_instance_within_the_cache_time(make_app: Any) -> None:
    """A new API and a new grant made on one instance are used by another within
    IDENTITY_CLIENT_CACHE_SECONDS (here 1 s)."""
    import time

    first, second = make_app(client_cache_seconds=1), make_app(client_cache_seconds=1)
    partner = make_client(first, "profile:read")
    http = second.test_client()
    assert token_for(http, partner).status_code == 200  # second caches client and APIs
    add_api(first)
    grant(first, partner.client_id, "orders", "orders:read")
    deadline, answer = time.monotonic() + 3, None
    while time.monotonic() < deadline:
        answer = token_for(http, partner, resource=AUD)
        if answer.status_code == 200:
            break
        time.sleep(0.1)
    assert answer is not None and answer.status_code == 200
    assert answer.get_json()["scope"] == "orders:read"


def test_one_scope_name_on_two_apis(app: Flask, client: FlaskClient) -> None:
    """Two APIs may both define ``read``; a grant and a token are always on one of them."""
    from tests.apis_helpers import admin

    add_api(app, scopes=["read"])
    add_api(app, name="ledger", audience="https://ledger.example.com", scopes=["read"])
    created = client.post(
        "/admin/clients",
        headers=admin(app),
        json={"name": "both", "scope": "read", "api": "ledger"},
    ).get_json()
    partner = SimpleNamespace(**created)  # client_id, client_secret (granted on ledger)
    assert grant(app, partner.client_id, "orders", "read").status_code == 200
    for audience in (AUD, "https://ledger.example.com"):
        body = token_for(client, partner, resource=audience).get_json()
        assert body["scope"] == "read"
        assert verified(client, body["access_token"], audience)["aud"] == audience


def test_a_new_api_works_at_once_on_another_instance(make_app: Any) -> None:
    """A resource the cached registry lacks makes the instance read it again (and a missing
    ES256 key the key ring): an API added on one instance (or by the CLI) issues tokens on
    another at once, caches or not."""
    caches = {"client_cache_seconds": 60, "keyring_cache_seconds": 60}
    first, second = make_app(**caches), make_app(**caches)
    http = second.test_client()
    assert token_for(http, make_client(second, "profile:read")).status_code == 200  # cached
    add_api(first, alg="ES256")
    partner = make_client(first, "")
    grant(first, partner.client_id, "orders", "orders:read")
    response = token_for(http, partner, resource=AUD)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["scope"] == "orders:read"
    assert oauth_error(token_for(http, partner, resource="https://nothing.example")) == (
        "invalid_target"
    )
