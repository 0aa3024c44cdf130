"""Each input limit is declared once (identity/limits.py): HTTP, the CLI and the service refuse
the same out-of-range values, and nothing is written when they do."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

from identity import limits
from identity.errors import BadRequest
from identity.extensions import services
from identity.services.upstream import NewConnection
from tests.conftest import access_token, bearer, service_error

DAY = 86_400


@dataclass(frozen=True)
class Case:
    field: str
    http: tuple[str, dict[str, Any]]  # path, body without the field
    cli: list[str]  # arguments without the option
    option: str
    service: Callable[[Any], object]  # calls the service with the value
    stored: Callable[[], int]  # how many rows exist (nothing may be written)


def _connection(field: str) -> Callable[[Any], object]:
    def add(value: Any) -> object:
        new = NewConnection(
            name="sms", method="api_key", base_url="https://u.example", secret="s", **{field: value}
        )
        return services().upstream.add(new)

    return add


UPSTREAM = ("/admin/upstream/connections", {"name": "sms", "method": "api_key"})
UPSTREAM_CLI = ["upstream", "add", "--name", "sms", "--method", "api_key", "--secret-stdin"]
UPSTREAM_CLI += ["--base-url", "https://u.example"]
CASES = {
    "client lifetime": Case(
        "lifetime",
        ("/admin/clients", {"name": "c", "scope": "admin"}),
        ["clients", "create", "--name", "c", "--scope", "admin"],
        "--lifetime",
        lambda v: services().clients.create("c", "admin", v),
        lambda: len(services().clients.list()),
    ),
    "client name": Case(
        "name",
        ("/admin/clients", {"scope": "admin"}),
        ["clients", "create", "--scope", "admin"],
        "--name",
        lambda v: services().clients.create(v, "admin"),
        lambda: len(services().clients.list()),
    ),
    "API key expiry": Case(
        "expires_in",
        ("/admin/api-keys", {"name": "k", "scope": "admin"}),
        ["api-keys", "create", "--name", "k", "--scope", "admin"],
        "--expires-in",
        lambda v: services().api_keys.create("k", "admin", v),
        lambda: len(services().api_keys.list()),
    ),
    "API key name": Case(
        "name",
        ("/admin/api-keys", {"scope": "admin"}),
        ["api-keys", "create", "--scope", "admin"],
        "--name",
        lambda v: services().api_keys.create(v, "admin"),
        lambda: len(services().api_keys.list()),
    ),
    "key promotion delay": Case(
        "promote_after",
        ("/admin/keys/rotate", {}),
        ["keys", "rotate"],
        "--promote-after",
        lambda v: services().keys.rotate(v),
        lambda: len(services().keys.states()),
    ),
    "upstream lifetime": Case(
        "lifetime",
        (UPSTREAM[0], {**UPSTREAM[1], "base_url": "https://u.example", "secret": "s"}),
        UPSTREAM_CLI,
        "--lifetime",
        _connection("lifetime"),
        lambda: len(services().upstream.list()),
    ),
    "upstream read timeout": Case(
        "read_timeout",
        (UPSTREAM[0], {**UPSTREAM[1], "base_url": "https://u.example", "secret": "s"}),
        UPSTREAM_CLI,
        "--read-timeout",
        _connection("read_timeout"),
        lambda: len(services().upstream.list()),
    ),
}
OUT_OF_RANGE = [
    ("client lifetime", 59),
    ("client lifetime", DAY + 1),  # the 24 h cap was once HTTP's alone
    ("client name", ""),
    ("client name", "n" * 201),
    ("API key expiry", 0),
    ("API key expiry", 10 * 365 * DAY + 1),
    ("API key name", "n" * 201),
    ("key promotion delay", -1),
    ("key promotion delay", 365 * DAY + 1),
    ("upstream lifetime", 0),
    ("upstream lifetime", 30 * DAY + 1),
    ("upstream read timeout", 0.001),
    ("upstream read timeout", 121.0),
]


@pytest.mark.parametrize(("case", "value"), OUT_OF_RANGE)
def test_http_cli_and_service_refuse_the_same_values(app: Flask, case: str, value: Any) -> None:
    """400 naming the field over HTTP, a BadRequest naming it from the CLI and the service."""
    spec = CASES[case]
    with app.app_context():
        before = spec.stored()
    path, body = spec.http
    answer = app.test_client().post(
        path, json={**body, spec.field: value}, headers=bearer(access_token(app, "admin"))
    )
    assert answer.status_code == 400, answer.get_json()
    assert spec.field in service_error(answer)["validationErrors"]
    done = app.test_cli_runner().invoke(
        args=["identity", *spec.cli, spec.option, str(value)], input="secret\n"
    )
    assert isinstance(done.exception, BadRequest), done.output
    assert spec.field in done.exception.validation_errors
    with app.app_context():
        with pytest.raises(BadRequest) as refused:
            spec.service(value)
        assert spec.field in refused.value.validation_errors
        assert spec.stored() == before


@pytest.mark.parametrize("value", [limits.CLIENT_LIFETIME.low, limits.CLIENT_LIFETIME.high])
def test_the_bounds_themselves_are_accepted_everywhere(app: Flask, value: int) -> None:
    admin = bearer(access_token(app, "admin"))
    body = {"name": "c", "scope": "admin", "lifetime": value}
    assert app.test_client().post("/admin/clients", json=body, headers=admin).status_code == 201
    cli = ["identity", "clients", "create", "--name", "c", "--scope", "admin"]
    assert app.test_cli_runner().invoke(args=[*cli, "--lifetime", str(value)]).exit_code == 0
    with app.app_context():
        assert services().clients.create("c", "admin", int(value)).lifetime == value


def test_the_cli_help_names_the_declared_bounds(app: Flask) -> None:
    shown = app.test_cli_runner().invoke(args=["identity", "clients", "create", "--help"])
    assert "60 to 86400 seconds" in " ".join(shown.output.split())


def test_docs_show_the_declared_limits() -> None:
    """docs/limits.md carries identity.limits.table() verbatim (regenerate it from there)."""
    from pathlib import Path

    page = Path(__file__).resolve().parents[2] / "docs" / "limits.md"
    assert limits.table() in page.read_text()
