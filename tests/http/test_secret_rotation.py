"""Secret rotation with overlap: both secrets work until ``old_secret_expires_at`` on every
instance, then only the new one; 0 ends the old secret at once; at most 30 days."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from identity.extensions import services
from tests.assertion_helpers import cli_refusal
from tests.conftest import access_token, bearer, service_error
from tests.partners_helpers import make_client, token


def secret(client_id: str, value: str) -> Any:
    return SimpleNamespace(client_id=client_id, client_secret=value)


def rfc3339(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_overlap_on_every_instance_then_only_the_new_secret(make_app: Any) -> None:
    """Rotated on one instance with --keep-old-for 2: both secrets work on both, then only new."""
    first, second = make_app(), make_app()
    partner = make_client(first)
    cli = first.test_cli_runner()
    before = datetime.now(UTC)
    result = cli.invoke(
        args=["identity", "clients", "rotate-secret", partner.client_id, "--keep-old-for", "2",
              "--json"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rotated = json.loads(result.output)
    assert set(rotated) == {"client_id", "client_secret", "old_secret_expires_at"}
    ends = rfc3339(rotated["old_secret_expires_at"])
    assert before + timedelta(seconds=2) <= ends <= datetime.now(UTC) + timedelta(seconds=2)
    new = secret(partner.client_id, rotated["client_secret"])
    for app in (first, second):
        assert token(app.test_client(), partner).status_code == 200
        assert token(app.test_client(), new).status_code == 200
    time.sleep(max(0.0, (ends - datetime.now(UTC)).total_seconds()) + 0.1)
    for app in (first, second):
        assert token(app.test_client(), partner).status_code == 401
        assert token(app.test_client(), new).status_code == 200


def test_zero_ends_the_old_secret_at_once(app: Flask, client: FlaskClient, runner: Any) -> None:
    partner = make_client(app)
    result = runner.invoke(
        args=["identity", "clients", "rotate-secret", partner.client_id, "--json"]
    )
    rotated = json.loads(result.output)
    assert rotated["old_secret_expires_at"] is None
    assert token(client, partner).status_code == 401
    assert token(client, secret(partner.client_id, rotated["client_secret"])).status_code == 200


def test_a_second_rotation_ends_the_oldest_secret(app: Flask, client: FlaskClient) -> None:
    """At most two secrets live: rotating during an overlap drops the oldest one."""
    partner = make_client(app)
    with app.app_context():
        middle = services().clients.rotate_secret(partner.client_id, 3600)
        newest = services().clients.rotate_secret(partner.client_id, 3600)
    assert token(client, partner).status_code == 401
    assert token(client, middle).status_code == 200
    assert token(client, newest).status_code == 200


def test_client_secret_post_works_with_the_old_secret_too(app: Flask, client: FlaskClient) -> None:
    partner = make_client(app)
    with app.app_context():
        services().clients.rotate_secret(partner.client_id, 60)
    response = client.post(
        "/access_token",
        data={
            "grant_type": "client_credentials",
            "client_id": partner.client_id,
            "client_secret": partner.client_secret,
        },
    )
    assert response.status_code == 200


def test_admin_api_rotates_with_overlap(app: Flask, client: FlaskClient) -> None:
    """POST /admin/clients/<id>/rotate-secret {"keep_old_for": S}: the CLI's answer shape."""
    admin = bearer(access_token(app, "admin", client_id="ops-admin"))
    partner = make_client(app)
    answer = client.post(
        f"/admin/clients/{partner.client_id}/rotate-secret",
        json={"keep_old_for": 600},
        headers=admin,
    )
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    body = answer.get_json()
    assert set(body) == {"client_id", "client_secret", "old_secret_expires_at"}
    assert rfc3339(body["old_secret_expires_at"]) > datetime.now(UTC) + timedelta(seconds=590)
    assert token(client, partner).status_code == 200
    shown = client.get(f"/admin/clients/{partner.client_id}", headers=admin).get_json()
    assert shown["old_secret_expires_at"] == body["old_secret_expires_at"]
    # no body: the old secret ends at once
    again = client.post(f"/admin/clients/{partner.client_id}/rotate-secret", headers=admin)
    assert again.status_code == 200 and again.get_json()["old_secret_expires_at"] is None


@pytest.mark.parametrize("value", [-1, 30 * 86400 + 1])
def test_overlap_outside_0_to_30_days_is_refused(
    app: Flask, client: FlaskClient, runner: Any, value: int
) -> None:
    """Refused with a clear message; the secret is unchanged."""
    admin = bearer(access_token(app, "admin", client_id="ops-admin"))
    partner = make_client(app)
    result = runner.invoke(
        args=[
            "identity",
            "clients",
            "rotate-secret",
            partner.client_id,
            "--keep-old-for",
            str(value),
        ]
    )
    assert result.exit_code == 1
    assert "keep_old_for: 0 to 2592000 seconds" in cli_refusal(result)
    answer = client.post(
        f"/admin/clients/{partner.client_id}/rotate-secret",
        json={"keep_old_for": value},
        headers=admin,
    )
    assert answer.status_code == 400
    assert "keep_old_for" in service_error(answer)["validationErrors"]
    assert token(client, partner).status_code == 200
    with app.app_context():
        assert services().clients.row(partner.client_id).old_secret_hash is None


def test_thirty_days_is_the_longest_overlap(app: Flask, runner: Any) -> None:
    partner = make_client(app)
    result = runner.invoke(
        args=["identity", "clients", "rotate-secret", partner.client_id, "--keep-old-for",
              str(30 * 86400), "--json"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    ends = rfc3339(json.loads(result.output)["old_secret_expires_at"])
    assert ends > datetime.now(UTC) + timedelta(days=29, hours=23)


def test_an_assertion_client_has_no_secret_to_rotate(app: Flask, runner: Any) -> None:
    from tests.assertion_helpers import make_assertion_client, rsa_key

    partner = make_assertion_client(app, rsa_key())
    result = runner.invoke(args=["identity", "clients", "rotate-secret", partner.client_id])
    assert result.exit_code == 1 and "private_key_jwt" in cli_refusal(result)
