"""The deployment kit: compose.yaml is valid and every command in the kit is one our CLI accepts."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
IDENTITY = Path(sys.executable).parent / "identity"
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())


def _compose_commands() -> list[list[str]]:
    """The `command` of every compose service built from our image."""
    return [
        service["command"]
        for service in COMPOSE["services"].values()
        if service.get("image", "").startswith("identity") and "command" in service
    ]


def _k8s_args() -> list[list[str]]:
    docs = [
        doc
        for path in (ROOT / "deploy/k8s").glob("*.yaml")
        for doc in yaml.safe_load_all(path.read_text())
    ]
    return [
        container["args"]
        for doc in docs
        if doc["kind"] in {"Deployment", "Job"}
        for container in doc["spec"]["template"]["spec"]["containers"]
    ]


def _dockerfile_cmd() -> list[str]:
    text = (ROOT / "Dockerfile").read_text()
    entry = re.search(r"^ENTRYPOINT (\[.*\])$", text, re.M)
    cmd = re.search(r"^CMD (\[.*\])$", text, re.M)
    assert entry and cmd
    assert yaml.safe_load(entry.group(1)) == ["identity"]
    return yaml.safe_load(cmd.group(1))


def _systemd_args() -> list[str]:
    line = re.search(r"^ExecStart=(.*)$", (ROOT / "deploy/identity.service").read_text(), re.M)
    assert line
    program, *args = shlex.split(line.group(1))
    assert program.endswith("/bin/identity")
    return args


COMMANDS = [*_compose_commands(), *_k8s_args(), _dockerfile_cmd(), _systemd_args()]


def test_compose_file_matches_the_compose_specification() -> None:
    """compose.yaml validates against the Compose Specification schema (check-jsonschema's copy)."""
    checker = shutil.which("check-jsonschema", path=str(IDENTITY.parent))
    assert checker, "pip install check-jsonschema (in the dev extra)"
    run = subprocess.run(
        [checker, "--builtin-schema", "vendor.compose-spec", str(ROOT / "compose.yaml")],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_compose_runs_init_once_before_two_instances_behind_the_balancer() -> None:
    """The topology: init completes before both instances start; nginx balances over both."""
    services = COMPOSE["services"]
    assert services["init"]["command"] == ["init"]
    instances = [name for name, s in services.items() if s.get("command", [None])[0] == "serve"]
    assert len(instances) == 2
    for name in instances:
        assert services[name]["depends_on"]["init"]["condition"] == "service_completed_successfully"
    nginx = (ROOT / "deploy/nginx.conf").read_text()
    for name in instances:
        assert f"server {name}:8000" in nginx
    assert "deploy/identity.env" in (ROOT / ".gitignore").read_text()


def test_secrets_file_example_sets_every_generated_secret() -> None:
    """The env example and the Kubernetes Secret name every secret `identity init` generates."""
    from identity.config import generate_secrets

    example = (ROOT / "deploy/identity.env.example").read_text()
    secret = yaml.safe_load((ROOT / "deploy/k8s/secret.yaml").read_text())["stringData"]
    for name in generate_secrets():
        assert re.search(rf"^{name}=", example, re.M), name
        assert name in secret, name


@pytest.mark.parametrize("argv", COMMANDS, ids=[" ".join(argv) for argv in COMMANDS])
def test_deployment_command_is_accepted_by_the_cli(argv: list[str]) -> None:
    """Each command the kit runs parses with our CLI (checked with --help: no server starts)."""
    run = subprocess.run([str(IDENTITY), *argv, "--help"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert f"Usage: identity {argv[0]}" in run.stdout


def test_an_unknown_option_fails_the_same_check() -> None:
    """The check above can fail: an option `identity serve` lacks is refused."""
    run = subprocess.run([str(IDENTITY), "serve", "--port", "1", "--help"], capture_output=True)
    assert run.returncode == 2


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint", path=str(IDENTITY.parent)) or shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint not installed (make lint installs it)")
    run = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout
