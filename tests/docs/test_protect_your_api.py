"""docs/protect-your-api.md: its Python (PyJWT) and Node (jose) recipes, as written, verify our
access tokens from a live server, and refuse what RFC 9068 §4 says a resource server must."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.test_serve import (  # noqa: F401 - instance_env is a fixture
    BIN,
    ROOT,
    free_port,
    instance_env,
    start_server,
    wait_ready,
)
from tests.node import npm_folder

PAGE = ROOT / "docs" / "protect-your-api.md"
_RECIPE = re.compile(r"^<!-- recipe: (\w+) -->\n```\w+\n(.*?)^```\s*$", re.M | re.S)
pytestmark = pytest.mark.slow

ORDERS, LEDGER = "https://orders.example.com", "https://ledger.example.com"

PY_DRIVER = """
import json, sys
import jwt
import recipe
out = {}
for name, (token, scope) in json.loads(sys.stdin.read()).items():
    try:
        out[name] = recipe.verify(token, scope)["client_id"]
    except PermissionError:
        out[name] = "forbidden"
    except jwt.InvalidTokenError:
        out[name] = "invalid"
print(json.dumps(out))
"""

NODE_DRIVER = """
import { verify } from "./recipe.mjs";
import { readFileSync } from "node:fs";
const cases = JSON.parse(readFileSync(0, "utf8"));
const out = {};
for (const [name, [token, scope]] of Object.entries(cases)) {
  try {
    out[name] = (await verify(token, scope)).client_id;
  } catch (err) {
    out[name] = err.message === "insufficient_scope" ? "forbidden" : "invalid";
  }
}
console.log(JSON.stringify(out));
"""


def recipes() -> dict[str, str]:
    return {m.group(1): m.group(2) for m in _RECIPE.finditer(PAGE.read_text())}


def cli(env: dict[str, str], *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [str(BIN / "identity"), *args, "--json"], cwd=ROOT, env=env, capture_output=True, timeout=60
    )
    assert out.returncode == 0, out.stderr.decode()
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def token(base: str, client: dict[str, Any], resource: str) -> str:
    response = httpx.post(
        f"{base}/access_token",
        data={"grant_type": "client_credentials", "resource": resource},
        auth=(client["client_id"], client["client_secret"]),
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def signed(env: dict[str, str], claims: dict[str, Any], typ: str, alg: str) -> str:
    """A token our key ring signs with chosen claims (an expired one, a customer-typed one)."""
    code = (
        "import json, sys\nfrom identity.app import create_app\n"
        "from identity.extensions import services\napp = create_app()\n"
        "with app.app_context():\n"
        f"    print(services().keys.sign(json.loads(sys.argv[1]), {typ!r}, {alg!r}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(claims)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr.decode()
    return out.stdout.decode().strip()


@pytest.fixture
def served_at_issuer(
    instance_env: dict[str, str],  # noqa: F811 - the fixture imported above
) -> Iterator[tuple[str, dict[str, str]]]:
    """`identity serve` whose IDENTITY_ISSUER is where it listens (the recipes fetch the JWKS
    from the issuer, as they would in production)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**instance_env, "IDENTITY_ISSUER": base}
    init = subprocess.run([str(BIN / "identity"), "init"], cwd=ROOT, env=env, capture_output=True)
    assert init.returncode == 0, init.stderr.decode()
    proc = start_server(env, port, "--workers", "1")
    try:
        wait_ready(f"{base}/readyz", proc)
        yield base, env
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=15)


@pytest.fixture
def cases(served_at_issuer: tuple[str, dict[str, str]]) -> tuple[str, dict[str, Any], str]:
    """(issuer, {audience: {case: [token, needed scope]}}, client_id of the valid tokens)."""
    base, env = served_at_issuer
    cli(env, "apis", "add", "--name", "orders", "--audience", ORDERS, "--scope",
        "orders:read orders:write", "--alg", "ES256")  # fmt: skip
    cli(env, "apis", "add", "--name", "ledger", "--audience", LEDGER, "--scope", "ledger:read")
    shop = cli(env, "clients", "create", "--name", "shop", "--api", "orders",
               "--scope", "orders:read")  # fmt: skip
    cli(env, "clients", "grant", shop["client_id"], "--api", "ledger", "--scope", "ledger:read")
    issuer = httpx.get(f"{base}/.well-known/oauth-authorization-server").json()["issuer"]
    orders, ledger = token(base, shop, ORDERS), token(base, shop, LEDGER)
    now = int(time.time())
    base_claims = {"iss": issuer, "aud": ORDERS, "sub": shop["client_id"], "jti": "x"}
    expired = {**base_claims, "client_id": shop["client_id"], "scope": "orders:read",
               "iat": now - 700, "exp": now - 100}  # fmt: skip
    customer = {
        **base_claims,
        "iat": now,
        "exp": now + 600,
        "client_id": "c",
        "scope": "orders:read",
    }
    head, body, sig = orders.split(".")
    tampered = f"{head}.{body}.{sig[:-4]}{'AAAA' if sig[-4:] != 'AAAA' else 'BBBB'}"
    return (
        issuer,
        {
            ORDERS: {
                "valid_es256": [orders, "orders:read"],
                "other_api": [ledger, "orders:read"],
                "missing_scope": [orders, "orders:write"],
                "expired": [signed(env, expired, "at+jwt", "ES256"), "orders:read"],
                "customer_token": [signed(env, customer, "JWT", "ES256"), "orders:read"],
                "tampered": [tampered, "orders:read"],
            },
            LEDGER: {"valid_rs256": [ledger, "ledger:read"], "other_api": [orders, "ledger:read"]},
        },
        shop["client_id"],
    )


def expected(client_id: str, audience: str) -> dict[str, str]:
    if audience == LEDGER:
        return {"valid_rs256": client_id, "other_api": "invalid"}
    return {
        "valid_es256": client_id,
        "other_api": "invalid",
        "missing_scope": "forbidden",
        "expired": "invalid",
        "customer_token": "invalid",
        "tampered": "invalid",
    }


def run(command: list[str], folder: Path, issuer: str, audience: str, stdin: Any) -> Any:
    env = {**os.environ, "ISSUER": issuer, "AUDIENCE": audience}
    out = subprocess.run(
        command, cwd=folder, env=env, input=json.dumps(stdin), capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_the_page_has_both_recipes() -> None:
    assert set(recipes()) == {"python", "node"}


def test_python_recipe(cases: tuple[str, dict[str, Any], str], tmp_path: Path) -> None:
    """PyJWT's PyJWKClient: ES256 and RS256 accepted; every wrong token refused."""
    issuer, by_audience, client_id = cases
    (tmp_path / "recipe.py").write_text(recipes()["python"])
    (tmp_path / "driver.py").write_text(PY_DRIVER)
    for audience, tokens in by_audience.items():
        got = run([sys.executable, "driver.py"], tmp_path, issuer, audience, tokens)
        assert got == expected(client_id, audience)


@pytest.fixture(scope="session")
def node_jose(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with jose installed (npm runs once per test session)."""
    folder = npm_folder(tmp_path_factory, "jose@5")
    return folder


def test_node_recipe(cases: tuple[str, dict[str, Any], str], node_jose: Path) -> None:
    """jose's createRemoteJWKSet + jwtVerify: the same answers as the Python recipe."""
    issuer, by_audience, client_id = cases
    (node_jose / "recipe.mjs").write_text(recipes()["node"])
    (node_jose / "driver.mjs").write_text(NODE_DRIVER)
    for audience, tokens in by_audience.items():
        got = run(["node", "driver.mjs"], node_jose, issuer, audience, tokens)
        assert got == expected(client_id, audience)
