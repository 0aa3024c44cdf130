"""node-oidc-provider 9, the peer every signing row is compared with, started in the same run.

``npm install oidc-provider@9`` runs once into ``bench/.cache/`` (git-ignored) and is reused;
``bench/oidc_provider.js`` serves client credentials with RS256 JWT access tokens on
``node:cluster`` workers, loopback only. Before any measurement, ``check_token`` proves
that an endpoint answers 200 with an RS256 JWT that verifies against the server's JWKS.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import jwt

from bench.harness import ROOT, WORKERS, free_port, stop, wait_until_up

CACHE = ROOT / "bench" / ".cache" / "oidc-provider-9"
SCRIPT = ROOT / "bench" / "oidc_provider.js"
MIN_NODE = 20


def _node() -> tuple[str, str]:
    """Paths of node and npm; a clear message and exit when they are missing or too old."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        sys.exit(
            f"make bench needs Node.js >= {MIN_NODE} and npm for its peer, node-oidc-provider 9 "
            "(Debian: apt-get install nodejs npm)"
        )
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True)
    major = int(version.stdout.strip().lstrip("v").split(".")[0])
    if major < MIN_NODE:
        sys.exit(f"make bench needs Node.js >= {MIN_NODE}, found {version.stdout.strip()}")
    return node, npm


def install() -> tuple[Path, str]:
    """``node_modules`` holding oidc-provider 9 (installed on first use) and its version."""
    _, npm = _node()
    package = CACHE / "node_modules" / "oidc-provider" / "package.json"
    if not package.exists():
        print("installing oidc-provider@9 with npm ...", file=sys.stderr, flush=True)
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [npm, "install", "--prefix", str(CACHE), "--no-audit", "--no-fund", "oidc-provider@9"],
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=600,
        )
    return CACHE / "node_modules", str(json.loads(package.read_text())["version"])


@contextmanager
def node_oidc_provider(client_id: str, client_secret: str) -> Iterator[tuple[str, str]]:
    """Serve the peer on a free loopback port; yields (base URL, oidc-provider version)."""
    node, _ = _node()
    modules, version = install()
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "NODE_ENV": "production",
        "PORT": str(port),
        "WORKERS": str(WORKERS),
        "OIDC_MODULES": str(modules),
        "CLIENT_ID": client_id,
        "CLIENT_SECRET": client_secret,
    }
    proc = subprocess.Popen(
        [node, str(SCRIPT)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/.well-known/openid-configuration", proc)
        yield base, version
    finally:
        stop(proc)


def check_token(
    url: str,
    body: str,
    headers: dict[str, str],
    jwks_url: str | None,
    field: str,
    alg: str = "RS256",
) -> None:
    """One request before measuring: 200 and an ``alg`` JWT in ``field`` (verified when a JWKS
    is given), so no row measures refusals or another algorithm."""
    response = httpx.post(url, content=body, headers=headers, timeout=30)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:300]}")
    token = response.json()[field]
    signed_with = jwt.get_unverified_header(token).get("alg")
    if signed_with != alg:
        raise RuntimeError(f"{url} signed with {signed_with!r}, not {alg}")
    if jwks_url is not None:
        key = jwt.PyJWKClient(jwks_url).get_signing_key_from_jwt(token)
        jwt.decode(token, key.key, algorithms=[alg], options={"verify_aud": False})
