"""Two `identity serve` instances on different loopback ports sharing PostgreSQL and Redis."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt
import pytest

from identity.devtools.mock_infobip import MockInfobip
from tests import backends
from tests.integration.test_serve import BIN, ROOT, free_port, start_server, wait_ready

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(backends.BACKEND != "postgres", reason="needs PostgreSQL + Redis"),
]


@dataclass
class Cluster:
    a: str
    b: str
    env: dict[str, str]
    mock: MockInfobip

    def cli(self, *args: str, stdin: str | None = None) -> dict[str, object]:
        out = subprocess.run(
            [str(BIN / "identity"), *args, "--json"],
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)  # type: ignore[no-any-return]


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("IDENTITY_", "DATABASE_URL", "REDIS_URL"))
    }
    env.update(
        {
            "IDENTITY_INSTANCE_DIR": str(tmp_path / "instance"),
            "IDENTITY_LOG_LEVEL": "WARNING",
            "DATABASE_URL": backends.create_pg_database(),
            "REDIS_URL": backends.REDIS_URL,
            "IDENTITY_REDIS_PREFIX": f"{backends.SESSION_PREFIX}multi-{tmp_path.name}:",
            "IDENTITY_KEYRING_CACHE_SECONDS": "1",
            "IDENTITY_CLIENT_CACHE_SECONDS": "1",
        }
    )
    init = subprocess.run(
        [str(BIN / "identity"), "init"], cwd=ROOT, env=env, capture_output=True, timeout=120
    )
    assert init.returncode == 0, init.stderr.decode()
    mock = MockInfobip(latency=0.5)
    procs, bases = [], []
    try:
        for _ in range(2):
            port = free_port()
            proc = start_server(env, port)
            procs.append(proc)
            bases.append(f"http://127.0.0.1:{port}")
            wait_ready(f"{bases[-1]}/readyz", proc)
        yield Cluster(bases[0], bases[1], env, mock)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGINT)  # quick shutdown: tests need no grace period
            proc.communicate(timeout=20)
        mock.stop()
        backends.drop_pg_database(env["DATABASE_URL"])


def basic(client: dict[str, object]) -> dict[str, str]:
    raw = f"{client['client_id']}:{client['client_secret']}".encode()
    return {"Authorization": f"Basic {base64.b64encode(raw).decode()}"}


def test_two_instances_share_tokens_revocations_keys_and_single_flight(cluster: Cluster) -> None:
    """Issued on A → verifies and introspects on B; revoked on A → refused by B within 1 s;
    a rotation is published by both; 50 readers over both → one upstream call."""
    client = cluster.cli("clients", "create", "--name", "multi", "--scope", "upstream:read")
    cluster.cli(
        "upstream",
        "add",
        "--name",
        "infobip",
        "--base-url",
        cluster.mock.base_url,
        "--method",
        "oauth2",
        "--client-id",
        "client",
        "--secret-stdin",
        stdin="secret\n",
    )
    issued = httpx.post(
        f"{cluster.a}/access_token",
        data={"grant_type": "client_credentials"},
        headers=basic(client),
    )
    assert issued.status_code == 200, issued.text
    token = issued.json()["access_token"]

    jwks_b = jwt.PyJWKClient(f"{cluster.b}/.well-known/jwks.json")
    key = jwks_b.get_signing_key_from_jwt(token).key
    audience = f"{_issuer(cluster)}/api"
    claims = jwt.decode(token, key, algorithms=["RS256"], audience=audience)
    assert claims["client_id"] == client["client_id"]
    introspected = httpx.post(
        f"{cluster.b}/introspect", data={"token": token}, headers=basic(client)
    )
    assert introspected.json()["active"] is True

    auth = {"Authorization": f"Bearer {token}"}
    urls = [f"{base}/upstream/connections/infobip/authorization" for base in (cluster.a, cluster.b)]
    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(
            pool.map(lambda i: httpx.get(urls[i % 2], headers=auth, timeout=30), range(50))
        )
    assert [r.status_code for r in answers] == [200] * 50
    assert len({r.json()["authorization"] for r in answers}) == 1
    assert cluster.mock.logins == 1

    revoked = httpx.post(f"{cluster.a}/revoke", data={"token": token}, headers=basic(client))
    assert revoked.status_code == 200
    revoked_at = time.monotonic()
    while (refused := httpx.get(urls[1], headers=auth)).status_code == 200:
        assert time.monotonic() - revoked_at < 1.0, "B still accepts the token after 1 s"
        time.sleep(0.05)
    assert refused.status_code == 401
    assert httpx.post(
        f"{cluster.b}/introspect", data={"token": token}, headers=basic(client)
    ).json() == {"active": False}

    rotated = cluster.cli("keys", "rotate", "--promote-after", "3600")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        kids = [
            {k["kid"] for k in httpx.get(f"{base}/.well-known/jwks.json").json()["keys"]}
            for base in (cluster.a, cluster.b)
        ]
        if all(rotated["kid"] in k for k in kids):
            break
        time.sleep(0.2)
    assert kids[0] == kids[1] and rotated["kid"] in kids[0] and len(kids[0]) == 2


def _issuer(cluster: Cluster) -> str:
    return str(httpx.get(f"{cluster.a}/.well-known/oauth-authorization-server").json()["issuer"])
