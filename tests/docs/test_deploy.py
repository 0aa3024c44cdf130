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
CONSTRAINTS = (ROOT / "constraints.txt").read_text()


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
    for name in instances:
        assert services[name]["networks"]["default"]["aliases"] == ["identity"]
    nginx = (ROOT / "deploy/nginx.conf").read_text()
    assert re.search(
        r"^\s*set \$instances identity:8000;\s*proxy_pass http://\$instances;", nginx, re.M
    )
    assert "deploy/identity.env" in (ROOT / ".gitignore").read_text()


def test_the_balancer_resolves_instances_at_run_time_and_gives_up_on_one_quickly() -> None:
    """nginx starts without any instance and follows them (Docker's DNS, re-read every 2 s);
    a connection that is not accepted within 1 s moves the request to the next instance."""
    nginx = (ROOT / "deploy/nginx.conf").read_text()
    assert re.search(r"^\s*resolver 127\.0\.0\.11 valid=2s\b", nginx, re.M)
    assert re.search(r"^\s*proxy_connect_timeout 1s;", nginx, re.M)
    assert re.search(r"^\s*proxy_next_upstream error timeout\b", nginx, re.M)
    assert not re.search(r"^\s*upstream\s", nginx, re.M)  # names in an upstream block resolve once


def test_the_balancer_runs_unprivileged_after_the_instances_are_healthy() -> None:
    lb = COMPOSE["services"]["lb"]
    user = lb["user"].split(":")
    assert int(user[0]) != 0 and int(user[1]) != 0
    assert lb["read_only"] is True
    assert lb["depends_on"] == {
        name: {"condition": "service_healthy"} for name in ("identity-a", "identity-b")
    }
    nginx = (ROOT / "deploy/nginx.conf").read_text()
    assert re.search(r"^pid /tmp/", nginx, re.M)
    assert re.search(r"^\s*listen 8080;", nginx, re.M)  # no privileged port


def test_instance_folder_tmpfs_belongs_to_the_image_user() -> None:
    """A tmpfs comes up owned by root: the compose file mounts it for the Dockerfile's user."""
    user = re.search(r"^USER (\d+):(\d+)$", (ROOT / "Dockerfile").read_text(), re.M)
    assert user
    for name in ("init", "identity-a", "identity-b"):
        service = COMPOSE["services"][name]
        assert service["read_only"] is True
        (mount,) = [m for m in service["tmpfs"] if m.startswith("/var/lib/identity:")]
        options = dict(o.split("=") for o in mount.split(":", 1)[1].split(","))
        assert (options["uid"], options["gid"]) == user.groups(), name


def test_database_healthcheck_goes_over_tcp() -> None:
    """The instances connect over TCP; the socket also answers while the image's first-start
    server (listening on no port) runs."""
    test = COMPOSE["services"]["db"]["healthcheck"]["test"]
    assert test[:2] == ["CMD", "pg_isready"]
    assert test[test.index("-h") + 1] == "127.0.0.1"


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


def test_dockerfile_needs_no_frontend_image_and_installs_the_pinned_wheel() -> None:
    """No `# syntax=` line (BuildKit would pull a frontend image from Docker Hub); the wheel,
    whatever the distribution is called, installed with constraints.txt."""
    text = (ROOT / "Dockerfile").read_text()
    assert not re.search(r"^#\s*syntax\s*=", text, re.M | re.I)
    assert "--constraint constraints.txt /src/dist/*.whl" in text
    assert "!constraints.txt" in (ROOT / ".dockerignore").read_text()


def test_constraints_pin_every_dependency_within_its_range() -> None:
    """constraints.txt (`make constraints`) pins each runtime dependency to an allowed version."""
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pins = dict(
        (canonicalize_name(name), version)
        for name, version in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$", CONSTRAINTS, re.M)
    )
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for line in project["dependencies"]:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not pinned: run `make constraints`"
        assert requirement.specifier.contains(pins[name], prereleases=True), (name, pins[name])


def _kubernetes_validate(*paths: Path) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("kubernetes-validate", path=str(IDENTITY.parent))
    assert tool, "pip install kubernetes-validate (in the dev extra)"
    return subprocess.run([tool, "--strict", *map(str, paths)], capture_output=True, text=True)


def test_kubernetes_manifests_match_the_kubernetes_schema() -> None:
    run = _kubernetes_validate(*sorted((ROOT / "deploy/k8s").glob("*.yaml")))
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count(" passed for resource ") == 5, run.stdout


def test_kubernetes_schema_check_can_fail(tmp_path: Path) -> None:
    """The same check refuses a Deployment with a misspelt field."""
    bad = (ROOT / "deploy/k8s/deployment.yaml").read_text().replace("replicas:", "replica:", 1)
    (tmp_path / "bad.yaml").write_text(bad)
    assert _kubernetes_validate(tmp_path / "bad.yaml").returncode != 0


def _exposure(unit: Path) -> float:
    run = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", "--no-pager", str(unit)],
        capture_output=True,
        text=True,
    )
    level = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", run.stdout)
    assert level, run.stdout + run.stderr
    return float(level.group(1))


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_unit_is_hardened(tmp_path: Path) -> None:
    """`systemd-analyze security` rates the unit 3.0 or less (OK); the check can fail: the
    same unit without its sandbox section rates worse."""
    unit = ROOT / "deploy/identity.service"
    assert _exposure(unit) <= 3.0
    bare = re.sub(r"\n# Sandbox:.*?\n\n", "\n\n", unit.read_text(), flags=re.S)
    (tmp_path / "identity.service").write_text(bare)
    assert _exposure(tmp_path / "identity.service") > 3.0


def test_systemd_unit_runs_init_in_its_own_sandbox() -> None:
    """`identity init` runs as ExecStartPre: the same dynamic user, state folder and sandbox."""
    text = (ROOT / "deploy/identity.service").read_text()
    (pre,) = re.findall(r"^ExecStartPre=(.*)$", text, re.M)
    program, *args = shlex.split(pre)
    assert program.endswith("/bin/identity") and args == ["init"]
    assert re.search(r"^DynamicUser=yes$", text, re.M)
    assert re.search(r"^StateDirectory=identity$", text, re.M)
