"""An inbox token verifies in Node's ``jsonwebtoken`` (what inbox backends use) with our PEM."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import api_key

IN_CI = os.environ.get("CI", "").lower() == "true"

VERIFY_JS = """
const fs = require("fs");
const jwt = require("jsonwebtoken");
const [token, pemFile] = process.argv.slice(2);
const pem = fs.readFileSync(pemFile, "utf8");
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
    if not (shutil.which("node") and shutil.which("npm")):
        if IN_CI:
            pytest.fail("CI=true and node/npm are missing")
        pytest.skip("node/npm not installed")
    folder = tmp_path_factory.mktemp("node")
    subprocess.run(
        [
            "npm",
            "install",
            "--silent",
            "--no-audit",
            "--no-fund",
            "--prefix",
            str(folder),
            "jsonwebtoken@9",
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    (folder / "verify.js").write_text(VERIFY_JS)
    return folder


def node_verify(folder: Path, token: str, pem: str) -> dict[str, object]:
    pem_file = folder / "key.pem"
    pem_file.write_text(pem)
    out = subprocess.run(
        ["node", str(folder / "verify.js"), token, str(pem_file)],
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
    assert result["payload"]["sub"] == "user:node-user"  # type: ignore[index]
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
