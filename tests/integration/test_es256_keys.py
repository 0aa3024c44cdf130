"""ES256 keys in the shared key ring: created with the first ES256 API, rotated, pre-published,
promoted and retired like the RSA keys, with every instance agreeing on the active key."""

from __future__ import annotations

import json
from typing import Any

import jwt
from flask import Flask

from identity.extensions import services
from tests.apis_helpers import add_api, admin
from tests.conftest import access_token


def jwks(app: Flask) -> list[dict[str, Any]]:
    return app.test_client().get("/.well-known/jwks.json").get_json()["keys"]  # type: ignore[no-any-return]


def ec_kids(app: Flask) -> list[str]:
    return [k["kid"] for k in jwks(app) if k["kty"] == "EC"]


def es256_token(app: Flask) -> str:
    with app.app_context():
        token = services().tokens.issue_access_token(
            "c", "orders:read", audience="https://orders.example.com", alg="ES256"
        )
    return token.token


def verify(app: Flask, token: str) -> dict[str, Any]:
    """Like a resource server: the key by kid from this instance's JWKS."""
    kid = jwt.get_unverified_header(token)["kid"]
    (jwk,) = [k for k in jwks(app) if k["kid"] == kid]
    key = jwt.PyJWK.from_json(json.dumps(jwk)).key
    return jwt.decode(token, key, algorithms=["ES256"], audience="https://orders.example.com")  # type: ignore[no-any-return]


def test_no_ec_key_until_an_es256_api(make_app: Any) -> None:
    """The JWKS holds EC keys once an API uses ES256, then on every instance alike."""
    first, second = make_app(), make_app()
    assert ec_kids(first) == []
    assert add_api(first, alg="ES256").status_code == 201
    assert len(ec_kids(first)) == 1
    assert jwks(first) == jwks(second)
    with second.app_context():
        assert services().apis.ensure_keys() == []  # identity init: one is enough


def test_es256_rotation_across_two_instances(make_app: Any) -> None:
    """Rotate on one instance, 409 on the other, promote there; both sign with the new key,
    tokens of the old key still verify, and the RSA key is untouched."""
    first, second = make_app(), make_app()
    add_api(first, alg="ES256")
    (old_kid,) = ec_kids(first)
    rsa_before = [k["kid"] for k in jwks(first) if k["kty"] == "RSA"]
    old_token = es256_token(first)

    client_a, client_b = first.test_client(), second.test_client()
    rotated = client_a.post(
        "/admin/keys/rotate", headers=admin(first), json={"alg": "ES256", "promote_after": 3600}
    )
    assert rotated.status_code == 201
    new_kid = rotated.get_json()["kid"]
    assert set(ec_kids(second)) == {old_kid, new_kid}  # pre-published everywhere
    assert jwt.get_unverified_header(es256_token(second))["kid"] == old_kid
    again = client_b.post("/admin/keys/rotate", headers=admin(second), json={"alg": "ES256"})
    assert again.status_code == 409
    rsa_rotation = client_b.post("/admin/keys/rotate", headers=admin(second), json={})
    assert rsa_rotation.status_code == 201  # the RSA sequence has no next key yet

    promoted = client_b.post("/admin/keys/promote", headers=admin(second), json={"alg": "ES256"})
    assert promoted.get_json() == {"kid": new_kid}
    for app in (first, second):
        assert jwt.get_unverified_header(es256_token(app))["kid"] == new_kid
        assert verify(app, old_token)["scope"] == "orders:read"  # retired, still published
    states = {
        k["kid"]: (k["alg"], k["state"])
        for k in client_a.get("/admin/keys", headers=admin(first)).get_json()["keys"]
    }
    assert states[old_kid] == ("ES256", "retired") and states[new_kid] == ("ES256", "active")
    assert [states[kid] for kid in rsa_before] == [("RS256", "active")]
    assert jwt.get_unverified_header(access_token(first))["alg"] == "RS256"


def test_cli_keys_rotate_and_list_by_alg(app: Flask) -> None:
    """`keys rotate --alg ES256` then `keys list` shows both kinds."""
    runner = app.test_cli_runner()
    add_api(app, alg="ES256")
    out = runner.invoke(args=["identity", "keys", "rotate", "--alg", "ES256", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["alg"] == "ES256"
    listed = json.loads(runner.invoke(args=["identity", "keys", "list", "--json"]).output)
    kinds = sorted((k["alg"], k["state"]) for k in listed["keys"])
    assert kinds == [("ES256", "active"), ("ES256", "next"), ("RS256", "active")]
