"""The deployment kit for real: the image built from the Dockerfile, compose.yaml brought up
unchanged (own project name, removed with its volumes at the end), checked through nginx.

Runs in the SQLite pass of `make test` only (the stack brings its own PostgreSQL and Redis), and
only where a Docker daemon answers (`.ci/run` starts one with the shared engine script)."""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from collections.abc import Iterator

import httpx
import jwt
import pytest

from tests import backends
from tests.deploy import REPORT
from tests.deploy.stack import (
    IMAGE,
    INSTANCES,
    ROOT,
    Stack,
    compose_command,
    engine_problem,
    image_size,
    inspect,
    settings_file,
)
from tests.integration.test_serve import free_port

if backends.BACKEND != "sqlite":
    pytest.skip("deployment test: runs once, in the SQLite pass", allow_module_level=True)
_PROBLEM = engine_problem()
if _PROBLEM:
    pytest.skip(f"deployment test: {_PROBLEM}", allow_module_level=True)

pytestmark = pytest.mark.slow
BASE = re.findall(r"^FROM (\S+)", (ROOT / "Dockerfile").read_text(), re.M)[-1]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    port = free_port()
    settings = settings_file(
        tmp_path_factory.mktemp("deploy") / "identity.env", f"http://127.0.0.1:{port}"
    )
    compose = compose_command()
    assert compose
    stack = Stack(compose=compose, port=port, settings=settings)
    started = time.monotonic()
    try:
        stack("build", "init", timeout=900)  # one build: every identity service runs this image
        built = time.monotonic()
        stack.up()
        REPORT.append(
            f"image {IMAGE}: {image_size(IMAGE) / 1e6:.0f} MB on {BASE} "
            f"({image_size(BASE) / 1e6:.0f} MB); build {built - started:.0f} s, "
            f"up {time.monotonic() - built:.0f} s ({' '.join(compose)})"
        )
        yield stack
    finally:
        try:
            stack.destroy()
        finally:
            REPORT.append(f"whole deployment test {time.monotonic() - started:.0f} s")


@pytest.fixture(scope="module")
def client(stack: Stack) -> tuple[str, str]:
    """A client created with the CLI inside an instance's container."""
    out = json.loads(
        stack.cli(
            "identity-a",
            "identity",
            "clients",
            "create",
            "--name",
            "deploy",
            "--scope",
            "profile:read",
            "--json",
        )
    )
    return out["client_id"], out["client_secret"]


def token_for(stack: Stack, client: tuple[str, str]) -> str:
    answer = httpx.post(
        f"{stack.url}/access_token",
        data={"grant_type": "client_credentials"},
        auth=client,
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def introspections(stack: Stack, client: tuple[str, str], token: str) -> dict[str, bool]:
    """`active` as each instance answers it, asked inside its own container."""
    return {name: stack.introspect_on(name, client, token) for name in INSTANCES}


@pytest.fixture(scope="module")
def revoked(stack: Stack, client: tuple[str, str]) -> str:
    token = token_for(stack, client)
    answer = httpx.post(f"{stack.url}/revoke", data={"token": token}, auth=client, timeout=10)
    assert answer.status_code == 200, answer.text
    return token


def test_image_has_no_installer_at_run_time(stack: Stack) -> None:
    for module in ("pip", "setuptools"):
        probe = subprocess.run(
            [*stack.compose, "-f", "compose.yaml", "-p", stack.project, "exec", "-T"]
            + ["identity-a", "python", "-c", f"import {module}"],
            cwd=ROOT,
            env=stack.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert f"No module named '{module}'" in probe.stderr, probe.stderr
    # What the Dockerfile adds to its base: the virtual environment and a user.
    assert image_size(IMAGE) - image_size(BASE) < 200e6


def test_every_container_runs_unprivileged_identity_on_a_read_only_root(stack: Stack) -> None:
    containers = [inspect(container) for container in stack.containers()]
    running = [c["Id"] for c in containers if c["State"]["Running"]]
    assert len(containers) == 6 and len(running) == 5  # init has exited
    for container in running:
        uids = stack.process_uids(container)
        assert uids and 0 not in uids, (container, uids)
    for service in ("init", *INSTANCES):
        state = stack.inspect(service)
        assert state["HostConfig"]["ReadonlyRootfs"] is True
        assert state["Config"]["User"] == "10001:10001"
    assert stack.inspect("init")["State"]["ExitCode"] == 0


def test_cli_client_gets_a_token_through_nginx_active_on_both_instances(
    stack: Stack, client: tuple[str, str]
) -> None:
    token = token_for(stack, client)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["client_id"] == client[0]
    assert claims["iss"] == stack.url
    assert introspections(stack, client, token) == {name: True for name in INSTANCES}


def test_revoked_token_is_inactive_on_both_instances(
    stack: Stack, client: tuple[str, str], revoked: str
) -> None:
    assert introspections(stack, client, revoked) == {name: False for name in INSTANCES}


def test_revoked_token_stays_inactive_after_a_redis_restart(
    stack: Stack, client: tuple[str, str], revoked: str
) -> None:
    stack("restart", "redis")  # compose.yaml keeps nothing of Redis on disk
    stack.wait_ready()
    assert introspections(stack, client, revoked) == {name: False for name in INSTANCES}


def test_stopping_one_instance_costs_no_request_more_than_two_seconds(
    stack: Stack, client: tuple[str, str]
) -> None:
    """Token requests through nginx while identity-a stops, stays away, and comes back the way
    docs/operations-and-production.md upgrades an instance (`up -d --no-deps`)."""
    results: list[tuple[int, float]] = []
    done = threading.Event()

    def traffic() -> None:
        with httpx.Client(base_url=stack.url, timeout=30) as http:
            while not done.is_set():
                began = time.monotonic()
                try:
                    status = http.post(
                        "/access_token", data={"grant_type": "client_credentials"}, auth=client
                    ).status_code
                except httpx.HTTPError:
                    status = 0
                results.append((status, time.monotonic() - began))
                time.sleep(0.02)  # steady traffic, not a load test

    sender = threading.Thread(target=traffic)
    sender.start()
    try:
        time.sleep(1)
        stack("stop", "identity-a")
        time.sleep(5)  # longer than nginx keeps a resolved address
        stack("up", "-d", "--no-deps", "--force-recreate", "identity-a")
        stack.wait_healthy("identity-a")
        time.sleep(2)
    finally:
        done.set()
        sender.join(timeout=60)
    slowest = max(seconds for _, seconds in results)
    REPORT.append(
        f"{len(results)} token requests while identity-a stopped: slowest {slowest:.2f} s"
    )
    assert len(results) > 20
    assert {status for status, _ in results} == {200}
    assert slowest < 2.0


def test_balancer_starts_and_serves_while_an_instance_is_missing(
    stack: Stack, client: tuple[str, str]
) -> None:
    """nginx resolves the instances at request time, not once at start-up."""
    stack("stop", "identity-b")
    try:
        stack("restart", "lb")
        stack.wait_ready(within=20)
        assert all(token_for(stack, client) for _ in range(5))
    finally:
        stack("start", "identity-b")
        stack.wait_healthy("identity-b")


def test_down_and_up_keeps_clients_keys_and_revocations(
    stack: Stack, client: tuple[str, str], revoked: str
) -> None:
    kids = {key["kid"] for key in httpx.get(f"{stack.url}/.well-known/jwks.json").json()["keys"]}
    stack("down", timeout=300)  # containers go; the database volume stays
    stack.up()
    after = {key["kid"] for key in httpx.get(f"{stack.url}/.well-known/jwks.json").json()["keys"]}
    assert after == kids
    token = token_for(stack, client)  # the client and its secret are still there
    assert jwt.get_unverified_header(token)["kid"] in kids
    assert introspections(stack, client, token) == {name: True for name in INSTANCES}
    assert introspections(stack, client, revoked) == {name: False for name in INSTANCES}
