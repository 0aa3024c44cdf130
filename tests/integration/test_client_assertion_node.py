"""``private_key_jwt`` with a real client library: Node's ``jose`` makes the key pair, exports
the public JWK for registration and signs the assertions (npm installs it into a temp folder)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from identity.extensions import services
from identity.services.clients import PRIVATE_KEY_JWT, ClientAuth
from tests.assertion_helpers import TOKEN_URL, assertion_form, cli_refusal
from tests.http.test_oauth_token import assert_oauth_error
from tests.node import npm_folder
from tests.partners_helpers import CC, decode

# keys <alg> <file>: a new key pair; the private JWK goes to <file>, the public JWK to stdout.
# sign <file> <client_id> <aud> [jti]: an RFC 7523 assertion, as partners' servers make them.
JOSE_MJS = """
import fs from "node:fs";
import * as jose from "jose";
const [mode, file, ...rest] = process.argv.slice(2);
if (mode === "keys") {
  const alg = rest[0];
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true });
  const kid = `node-${alg}`;
  fs.writeFileSync(file, JSON.stringify({ ...(await jose.exportJWK(privateKey)), kid, alg }));
  console.log(JSON.stringify({ ...(await jose.exportJWK(publicKey)), kid, alg, use: "sig" }));
} else {
  const [clientId, aud, jti] = rest;
  const jwk = JSON.parse(fs.readFileSync(file, "utf8"));
  const key = await jose.importJWK(jwk, jwk.alg);
  const token = await new jose.SignJWT({})
    .setProtectedHeader({ alg: jwk.alg, kid: jwk.kid })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(aud)
    .setIssuedAt()
    .setExpirationTime("2m")
    .setJti(jti || crypto.randomUUID())
    .sign(key);
  console.log(token);
}
"""


@pytest.fixture(scope="session")
def node_jose(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with jose installed and jose.mjs; npm runs once per test session."""
    folder = npm_folder(tmp_path_factory, "jose@5")
    (folder / "jose.mjs").write_text(JOSE_MJS)
    return folder


def node(folder: Path, *args: str) -> str:
    out = subprocess.run(
        ["node", str(folder / "jose.mjs"), *args],
        cwd=folder,
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return out.stdout.strip()


def register(app: Flask, public_jwk: dict[str, Any]) -> str:
    auth = ClientAuth(PRIVATE_KEY_JWT, json.dumps({"keys": [public_jwk]}))
    with app.app_context():
        return services().clients.create("node partner", "profile:read", auth=auth).client_id


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_jose_assertions_authenticate(
    app: Flask, client: FlaskClient, node_jose: Path, alg: str
) -> None:
    """A jose key pair and assertion: a token once; the same assertion again is refused."""
    private_file = node_jose / f"{alg}.jwk"
    public_jwk = json.loads(node(node_jose, "keys", str(private_file), alg))
    assert "d" not in public_jwk
    client_id = register(app, public_jwk)
    signed = node(node_jose, "sign", str(private_file), client_id, TOKEN_URL)
    response = client.post("/access_token", data={"grant_type": CC, **assertion_form(signed)})
    assert response.status_code == 200, response.get_json()
    _, claims = decode(app, response.get_json()["access_token"])
    assert claims["client_id"] == client_id
    replay = client.post("/access_token", data={"grant_type": CC, **assertion_form(signed)})
    assert_oauth_error(replay, 401, "invalid_client")


def test_jose_private_jwk_is_refused_at_registration(
    app: Flask, runner: Any, node_jose: Path, tmp_path: Path
) -> None:
    """A partner that sends its private JWK by mistake is told so; nothing is created."""
    private_file = node_jose / "mistake.jwk"
    node(node_jose, "keys", str(private_file), "ES256")
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps({"keys": [json.loads(private_file.read_text())]}))
    result = runner.invoke(
        args=["identity", "clients", "create", "--name", "n", "--auth", "private_key_jwt",
              "--jwks-file", str(jwks_file)]
    )  # fmt: skip
    assert result.exit_code == 1
    message = cli_refusal(result)
    assert "private key material (d)" in message
    secret_d = json.loads(private_file.read_text())["d"]
    assert secret_d not in message and secret_d not in result.output
    with app.app_context():
        assert services().clients.list() == []
