"""compose.yaml as a user runs it, under a project name of its own (never anyone else's
containers), driven through the docker and compose command lines."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "identity:deploy-test"  # kept between runs: the next build reuses its layers
INSTANCES = ("identity-a", "identity-b")
ENGINE_SCRIPT = "../shared/tools/container-engine.sh"

# Asks one instance, from inside its own container, about a token: argv = client_id, secret, token.
_INTROSPECT = """
import base64, json, sys, urllib.parse, urllib.request
basic = base64.b64encode(f"{sys.argv[1]}:{sys.argv[2]}".encode()).decode()
request = urllib.request.Request(
    "http://127.0.0.1:8000/introspect",
    data=urllib.parse.urlencode({"token": sys.argv[3]}).encode(),
    headers={"Authorization": f"Basic {basic}"},
)
print(urllib.request.urlopen(request, timeout=10).read().decode())
"""


def _run(args: list[str], timeout: float, env: dict[str, str] | None = None) -> str:
    out = subprocess.run(
        args,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    assert out.returncode == 0, f"{' '.join(args[:6])}...: {out.stdout[-2000:]}{out.stderr[-2000:]}"
    return out.stdout


def compose_command() -> list[str] | None:
    """`docker compose` (v2) when the plugin is there, else Debian's `docker-compose` (v1)."""
    plugin = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30)
    if plugin.returncode == 0:
        return ["docker", "compose"]
    return ["docker-compose"] if shutil.which("docker-compose") else None


def engine_problem() -> str | None:
    """Why the deployment test cannot run here, or None."""
    if shutil.which("docker") is None:
        return f"no docker command (bash {ENGINE_SCRIPT} all sets one up)"
    try:
        info = subprocess.run(["docker", "info"], capture_output=True, timeout=30)
    except subprocess.TimeoutExpired:
        info = None
    if info is None or info.returncode != 0:
        return f"no Docker daemon answers (bash {ENGINE_SCRIPT} all starts one)"
    if compose_command() is None:
        return "neither `docker compose` nor `docker-compose` is installed"
    return None


def settings_file(path: Path, issuer: str) -> Path:
    """deploy/identity.env.example filled in with fresh secrets, as a user would."""
    password = secrets.token_hex(16)
    values = {
        "IDENTITY_ISSUER": issuer,
        **{
            name: secrets.token_urlsafe(48)
            for name in (
                "IDENTITY_KEY_PASSPHRASE",
                "IDENTITY_SECRET_KEY",
                "IDENTITY_HASH_PEPPER",
                "IDENTITY_CUSTOMER_ID_SECRET",
            )
        },
        "IDENTITY_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "POSTGRES_PASSWORD": password,
        "DATABASE_URL": f"postgresql+psycopg://identity:{password}@db:5432/identity",
    }
    lines = []
    for line in (ROOT / "deploy/identity.env.example").read_text().splitlines():
        name = line.split("=", 1)[0]
        lines.append(f"{name}={values.pop(name)}" if name in values else line)
    assert not values, f"the example no longer sets {sorted(values)}"
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


@dataclass
class Stack:
    compose: list[str]
    port: int
    settings: Path
    project: str = field(default_factory=lambda: f"identity-deploy-{uuid.uuid4().hex[:10]}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @cached_property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if subprocess.run(["docker", "buildx", "version"], capture_output=True).returncode:
            env["DOCKER_BUILDKIT"] = "0"  # no buildx plugin: the classic builder
        env.update(
            IDENTITY_ENV_FILE=str(self.settings), IDENTITY_IMAGE=IMAGE, IDENTITY_PORT=str(self.port)
        )
        return env

    def __call__(self, *args: str, timeout: float = 180) -> str:
        """One compose command on this project."""
        return _run(
            [*self.compose, "-f", "compose.yaml", "-p", self.project, *args], timeout, self.env
        )

    def up(self) -> None:
        self("up", "-d", "--no-build")  # returns once nginx started: after healthy instances
        self.wait_ready()

    def wait_ready(self, within: float = 60) -> None:
        deadline = time.monotonic() + within
        while True:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"not ready through nginx:\n{self.logs()}"
            time.sleep(0.5)

    def wait_healthy(self, service: str, within: float = 60) -> None:
        deadline = time.monotonic() + within
        while self.inspect(service)["State"].get("Health", {}).get("Status") != "healthy":
            assert time.monotonic() < deadline, f"{service} not healthy:\n{self.logs()}"
            time.sleep(0.5)

    def containers(self) -> list[str]:
        return self("ps", "-q").split()

    def inspect(self, service: str) -> dict[str, Any]:
        (container,) = self("ps", "-q", service).split()
        return inspect(container)

    def process_uids(self, container: str) -> list[int]:
        table = _run(["docker", "top", container, "-eo", "uid,pid,comm"], 30).splitlines()[1:]
        return [int(line.split()[0]) for line in table]

    def cli(self, service: str, *args: str) -> str:
        """A command in a running container of the service (stdin closed, no terminal)."""
        return self("exec", "-T", service, *args, timeout=60)

    def introspect_on(self, service: str, client: tuple[str, str], token: str) -> bool:
        answer = json.loads(self.cli(service, "python", "-c", _INTROSPECT, *client, token))
        return bool(answer["active"])

    def logs(self) -> str:
        out = subprocess.run(
            [*self.compose, "-f", "compose.yaml", "-p", self.project, "logs", "--tail", "30"],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return out.stdout[-6000:]

    def destroy(self) -> None:
        self("down", "-v", "--remove-orphans", timeout=300)


def inspect(container: str) -> dict[str, Any]:
    return dict(json.loads(_run(["docker", "inspect", container], 30))[0])


def image_size(name: str) -> int:
    return int(_run(["docker", "image", "inspect", "-f", "{{.Size}}", name], 30))
