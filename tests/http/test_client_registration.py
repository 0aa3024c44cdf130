"""Registering a ``private_key_jwt`` client (CLI and admin API): bad key material is refused
with a clear message and nothing is created; ``clients show`` / ``enable``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from identity.extensions import services
from tests.assertion_helpers import cli_refusal, ec_key, jwks, rsa_key
from tests.conftest import access_token, bearer, service_error
from tests.partners_helpers import make_client, token


@pytest.fixture
def admin(app: Flask) -> dict[str, str]:
    return bearer(access_token(app, "admin", client_id="ops-admin"))


def client_count(app: Flask) -> int:
    with app.app_context():
        return len(services().clients.list())


def create_cli(runner: Any, *args: str) -> Any:
    return runner.invoke(
        args=["identity", "clients", "create", "--name", "p", "--scope", "profile:read", *args]
    )


def test_cli_creates_an_assertion_client_without_a_secret(
    app: Flask, runner: Any, tmp_path: Path
) -> None:
    """`--auth private_key_jwt --jwks-file F` prints client_id and scope, no secret."""
    key = rsa_key()
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks(key)))
    result = create_cli(runner, "--auth", "private_key_jwt", "--jwks-file", str(path), "--json")
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert set(created) == {"client_id", "scope"}
    shown = json.loads(
        runner.invoke(args=["identity", "clients", "show", created["client_id"], "--json"]).output
    )
    assert shown["auth_method"] == "private_key_jwt"
    assert shown["jwks"]["keys"][0]["kid"] == key.kid
    assert shown["enabled"] is True and shown["old_secret_expires_at"] is None


def _private_set() -> dict[str, Any]:
    return {"keys": [rsa_key().private_jwk()]}


def _symmetric_set() -> dict[str, Any]:
    return {"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "s"}]}


def _p384_set() -> dict[str, Any]:
    return {
        "keys": [
            {
                "kty": "EC",
                "crv": "P-384",
                "kid": "p384",
                "x": "AAAA",
                "y": "AAAA",
            }
        ]
    }


BAD_SETS: dict[str, tuple[str, str]] = {
    "not-json": ("{keys", "not JSON"),
    "no-keys-array": (json.dumps({"kty": "RSA"}), "not a JWK Set"),
    "empty-set": (json.dumps({"keys": []}), "not a JWK Set"),
    "private-rsa": (json.dumps(_private_set()), "private key material"),
    "private-ec": (json.dumps({"keys": [ec_key().private_jwk()]}), "private key material"),
    "symmetric": (json.dumps(_symmetric_set()), "private key material (k)"),
    "wrong-curve": (json.dumps(_p384_set()), "key 0"),
    "two-keys-one-kid": (
        json.dumps({"keys": [rsa_key("same").public_jwk(), ec_key("same").public_jwk()]}),
        "own kid",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_SETS))
def test_cli_refuses_bad_jwk_sets(app: Flask, runner: Any, tmp_path: Path, case: str) -> None:
    """Each bad set: exit 1, a message naming the problem, no client created."""
    text, expected = BAD_SETS[case]
    path = tmp_path / "jwks.json"
    path.write_text(text)
    result = create_cli(runner, "--auth", "private_key_jwt", "--jwks-file", str(path))
    assert result.exit_code == 1
    assert expected in cli_refusal(result)
    assert client_count(app) == 0


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--jwks-uri", "http://keys.example/jwks.json"], "must use https"),
        (["--jwks-uri", "https://127.0.0.1/jwks.json"], "loopback, private or link-local"),
        (["--jwks-uri", "https://10.1.2.3/jwks.json"], "loopback, private or link-local"),
        (["--jwks-uri", "https://[::1]/jwks.json"], "loopback, private or link-local"),
        (["--jwks-uri", "https://169.254.169.254/latest"], "loopback, private or link-local"),
        (["--jwks-uri", "https://localhost/jwks.json"], "loopback, private or link-local"),
        (["--jwks-uri", "ftp://keys.example/jwks.json"], "absolute https URL"),
        ([], "exactly one of --jwks-file"),
    ],
)
def test_cli_refuses_unsafe_jwks_uris(
    app: Flask, runner: Any, args: list[str], expected: str
) -> None:
    """Outside the development switch: https only, never a non-public address."""
    result = create_cli(runner, "--auth", "private_key_jwt", *args)
    assert expected in cli_refusal(result)
    assert client_count(app) == 0


def test_cli_keys_need_the_assertion_method(app: Flask, runner: Any) -> None:
    result = create_cli(runner, "--jwks-uri", "https://keys.example/jwks.json")
    assert result.exit_code != 0 and "--auth private_key_jwt" in result.output
    assert client_count(app) == 0


def test_admin_api_registers_and_refuses(
    app: Flask, client: FlaskClient, admin: dict[str, str]
) -> None:
    """POST /admin/clients with auth=private_key_jwt: 201 without a secret; bad sets are 400."""
    created = client.post(
        "/admin/clients",
        json={
            "name": "p",
            "scope": "profile:read",
            "auth": "private_key_jwt",
            "jwks": jwks(rsa_key()),
        },
        headers=admin,
    )
    assert created.status_code == 201, created.get_json()
    assert "client_secret" not in created.get_json()
    refused = client.post(
        "/admin/clients",
        json={"name": "p", "auth": "private_key_jwt", "jwks": _private_set()},
        headers=admin,
    )
    assert refused.status_code == 400
    error = service_error(refused)
    assert error["messageId"] == "BAD_REQUEST"
    assert "private key material" in error["validationErrors"]["jwks"][0]
    assert '"d"' not in refused.get_data(as_text=True)
    insecure = client.post(
        "/admin/clients",
        json={"name": "p", "auth": "private_key_jwt", "jwks_uri": "http://keys.example/j"},
        headers=admin,
    )
    assert insecure.status_code == 400
    for malformed in ("https://[::1/j", "https://keys.example:99999/j", "https://keys.example:x/j"):
        answer = client.post(
            "/admin/clients",
            json={"name": "p", "auth": "private_key_jwt", "jwks_uri": malformed},
            headers=admin,
        )
        assert answer.status_code == 400, malformed  # never a 500
    assert client_count(app) == 1


def test_show_enable_disable(
    app: Flask, client: FlaskClient, admin: dict[str, str], runner: Any
) -> None:
    """A client disabled by mistake is enabled again with the same secret (CLI and API)."""
    partner = make_client(app)
    cid = partner.client_id
    assert runner.invoke(args=["identity", "clients", "disable", cid]).exit_code == 0
    assert token(client, partner).status_code == 401
    enabled = json.loads(
        runner.invoke(args=["identity", "clients", "enable", cid, "--json"]).output
    )
    assert enabled == {"client_id": cid, "enabled": True}
    assert token(client, partner).status_code == 200
    assert (
        client.post(f"/admin/clients/{cid}/disable", headers=admin).get_json()["enabled"] is False
    )
    assert token(client, partner).status_code == 401
    answer = client.post(f"/admin/clients/{cid}/enable", headers=admin)
    assert answer.status_code == 200 and answer.get_json()["enabled"] is True
    assert token(client, partner).status_code == 200
    shown = client.get(f"/admin/clients/{cid}", headers=admin).get_json()
    assert shown["auth_method"] == "client_secret_basic"
    assert partner.client_secret not in json.dumps(shown)
    assert client.post("/admin/clients/nope/enable", headers=admin).status_code == 404
    missing = runner.invoke(args=["identity", "clients", "show", "nope"])
    assert missing.exit_code == 1 and "No such client" in cli_refusal(missing)
