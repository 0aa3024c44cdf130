"""Scope registry, CLI-safe client ids and CLI messages (issue 12)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from identity.scopes import KNOWN_SCOPES
from identity.services import clients as clients_service
from tests.conftest import access_token, bearer, service_error
from tests.partners_helpers import insert_client


@pytest.mark.parametrize("path", ["/admin/clients", "/admin/api-keys"])
def test_unknown_scope_is_400_listing_the_allowed_ones(
    app: Flask, client: FlaskClient, path: str
) -> None:
    """``root`` names nothing any endpoint checks: refused, and the error says what is allowed."""
    headers = bearer(access_token(app, "admin"))
    response = client.post(path, json={"name": "x", "scope": "profile:read root"}, headers=headers)
    assert response.status_code == 400
    messages = service_error(response)["validationErrors"]["scope"]
    assert "root" in messages[0]
    assert all(scope in messages[0] for scope in KNOWN_SCOPES)


def test_discovery_lists_the_registry(client: FlaskClient) -> None:
    """``scopes_supported`` is the same tuple the admin API enforces."""
    metadata = client.get("/.well-known/oauth-authorization-server").get_json()
    assert tuple(metadata["scopes_supported"]) == KNOWN_SCOPES


def test_client_ids_never_start_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    """An id that would read as a CLI option is drawn again."""
    drawn = iter(["-starts-with-dash", "fine-id"])
    monkeypatch.setattr(clients_service.secrets, "token_urlsafe", lambda n: next(drawn))
    assert clients_service.new_client_id() == "fine-id"


def test_double_dash_passes_an_id_that_starts_with_a_dash(app: Flask, runner: Any) -> None:
    """Existing ids starting with ``-`` can still be named: ``identity clients disable -- -id``."""
    insert_client(app, "-legacy", "secret-secret", "profile:read")
    result = runner.invoke(args=["identity", "clients", "disable", "--", "-legacy"])
    assert result.exit_code == 0, result.output
    listed = runner.invoke(args=["identity", "clients", "list", "--json"])
    rows = json.loads(listed.output)
    rows = rows["clients"] if isinstance(rows, dict) else rows
    assert [r["enabled"] for r in rows if r["client_id"] == "-legacy"] == [False]


@pytest.mark.parametrize(
    ("method", "extra", "kind"),
    [
        ("ibsso", ["--username", "u"], "password"),
        ("oauth2", ["--client-id", "c"], "client secret"),
        ("api_key", [], "API key"),
    ],
)
def test_upstream_add_without_secret_says_how(
    runner: Any, method: str, extra: list[str], kind: str
) -> None:
    """Without ``--secret-stdin`` a method that needs one says so, and how to give it."""
    result = runner.invoke(
        args=["identity", "upstream", "add", "--name", "sms", "--base-url", "https://x.test"]
        + ["--method", method, *extra]
    )
    assert result.exit_code != 0
    assert f"method {method} needs a secret" in result.output
    assert kind in result.output and "--secret-stdin" in result.output
