"""An inbox token verifies in Node's ``jsonwebtoken`` (what inbox backends use) with our PEM."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import api_key
from tests.inbox_helpers import NOVU_SECRET, cli, rsa_key
from tests.node import npm_folder

VERIFY_JS = """
const fs = require("fs");
const jwt = require("jsonwebtoken");
const crypto = require("crypto");
const [token, pemFile, mode] = process.argv.slice(2);
const pem = fs.readFileSync(pemFile, "utf8");
if (mode === "hmac") {  // Novu's subscriberHash, computed as Novu's docs show
  const hash = crypto.createHmac("sha256", pem).update(token).digest("hex");
  console.log(JSON.stringify({ hash }));
  process.exit(0);
}
try {
  const payload = jwt.verify(token, pem, { algorithms: ["RS256"] });
  const header = jwt.decode(token, { complete: true }).header;
  console.log(JSON.stringify({ ok: true, payload, header }));
} catch (err) {
  console.log(JSON.stringify({ ok: false, error: err.name }));
}
"""


@pytest.fixture(scope="session")
def node_jsonwebtoken(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with jsonwebtoken installed and verify.js; npm runs once per test session."""
    folder = npm_folder(tmp_path_factory, "jsonwebtoken@9")
    (folder / "verify.js").write_text(VERIFY_JS)
    return folder


def node_verify(folder: Path, token: str, pem: str, mode: str = "jwt") -> dict[str, object]:
    pem_file = folder / "key.pem"
    pem_file.write_text(pem)
    out = subprocess.run(
        ["node", str(folder / "verify.js"), token, str(pem_file), mode],
        cwd=folder,
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def test_inbox_token_verifies_in_node_jsonwebtoken(
    app: Flask, client: FlaskClient, node_jsonwebtoken: Path
) -> None:
    """jsonwebtoken.verify(token, PEM from /inbox/public-key.pem, RS256) accepts our token."""
    key = api_key(app, "inbox:issue")
    token = client.post(
        "/v1/inbox/tokens", json={"identifier": "node-user"}, headers={"X-API-Key": key}
    ).get_json()["token"]
    pem = client.get("/inbox/public-key.pem").get_data(as_text=True)
    result = node_verify(node_jsonwebtoken, token, pem)
    assert result["ok"] is True, result
    assert result["payload"]["sub"] == "user:node-user"  # the implicit own-key "legacy" app  # type: ignore[index]
    assert set(result["payload"]) == {"sub", "apiKey", "iat", "exp"}  # type: ignore[arg-type]
    assert result["header"]["typ"] == "JWT"  # type: ignore[index]


def test_node_refuses_a_tampered_token(
    app: Flask, client: FlaskClient, node_jsonwebtoken: Path
) -> None:
    """The same check fails for a token whose payload was changed (the test can fail)."""
    key = api_key(app, "inbox:issue")
    token = client.post(
        "/v1/inbox/tokens", json={"identifier": "a"}, headers={"X-API-Key": key}
    ).get_json()["token"]
    other = client.post(
        "/v1/inbox/tokens", json={"identifier": "b"}, headers={"X-API-Key": key}
    ).get_json()["token"]
    forged = ".".join([token.split(".")[0], other.split(".")[1], token.split(".")[2]])
    pem = client.get("/inbox/public-key.pem").get_data(as_text=True)
    assert node_verify(node_jsonwebtoken, forged, pem) == {
        "ok": False,
        "error": "JsonWebTokenError",
    }


def _issue(app: Flask, client: FlaskClient, identifier: str, name: str) -> dict[str, object]:
    key = api_key(app, "inbox:issue")
    body = {"identifier": identifier, "app": name}
    response = client.post("/v1/inbox/tokens", json=body, headers={"X-API-Key": key})
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def _add(app: Flask, *args: str, key: str) -> None:
    result = cli(app, "inbox-apps", "add", *args, "--key-stdin", stdin=key)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("form", ["pem", "escaped", "base64"])
def test_imported_engagespot_and_knock_keys_verify_in_node(
    app: Flask, client: FlaskClient, node_jsonwebtoken: Path, form: str
) -> None:
    """jsonwebtoken.verify(token, the vendor's public key, RS256) accepts both vendors' tokens."""
    vendor_key = rsa_key(4)
    _add(app, "--name", "es", "--vendor", "engagespot", "--api-key", "es-key",
         key=vendor_key.form(form))  # fmt: skip
    _add(app, "--name", "kn", "--vendor", "knock", key=vendor_key.form(form))
    engagespot = node_verify(
        node_jsonwebtoken, str(_issue(app, client, "u-1", "es")["token"]), vendor_key.public_pem
    )
    assert engagespot["ok"] is True, engagespot
    assert set(engagespot["payload"]) == {"sub", "apiKey", "iat", "exp"}  # type: ignore[arg-type]
    assert engagespot["payload"]["sub"] == "user:u-1"  # type: ignore[index]
    assert engagespot["payload"]["apiKey"] == "es-key"  # type: ignore[index]
    knock = node_verify(
        node_jsonwebtoken, str(_issue(app, client, "u-2", "kn")["token"]), vendor_key.public_pem
    )
    assert knock["ok"] is True, knock
    assert set(knock["payload"]) == {"sub", "iat", "exp"}  # type: ignore[arg-type]
    assert knock["payload"]["sub"] == "u-2"  # type: ignore[index]
    other = node_verify(
        node_jsonwebtoken, str(_issue(app, client, "u-2", "kn")["token"]), rsa_key(0).public_pem
    )
    assert other == {"ok": False, "error": "JsonWebTokenError"}  # another key: refused


def test_novu_hash_matches_node_create_hmac(
    app: Flask, client: FlaskClient, node_jsonwebtoken: Path
) -> None:
    """Novu's subscriberHash equals crypto.createHmac("sha256", secret).update(id) in Node."""
    _add(app, "--name", "nv", "--vendor", "novu", key=NOVU_SECRET)
    for identifier in ("subscriber-1", "é ünïcode 42"):
        body = _issue(app, client, identifier, "nv")
        node = node_verify(node_jsonwebtoken, identifier, NOVU_SECRET, mode="hmac")
        assert body["token"] == node["hash"] and body["expires_in"] is None
