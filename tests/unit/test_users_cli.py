"""``identity users create|disable|list``."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask

from identity.extensions import services
from tests.customers_helpers import login


def test_create_prints_one_json_object(app: Flask, runner: Any) -> None:
    """create --json prints {id, username, customer_id}; the password comes from stdin."""
    result = runner.invoke(
        args=[
            "identity",
            "users",
            "create",
            "--username",
            "Gil",
            "--password-stdin",
            "--email",
            "gil@example.com",
            "--json",
        ],
        input="s3cret pw\n",
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) == {"id", "username", "customer_id"}
    assert payload["username"] == "gil"
    assert "s3cret" not in result.output
    assert (
        login(app.test_client(), "GIL", "s3cret pw").get_json()["customer_id"]
        == (payload["customer_id"])
    )
    with app.app_context():
        assert services().customers.by_username("gil").email == "gil@example.com"


def test_create_refuses_without_stdin_and_duplicates(runner: Any) -> None:
    """No --password-stdin: error; a look-alike username: error, no traceback."""
    base = ["identity", "users", "create", "--username", "Hal"]
    assert runner.invoke(args=base).exit_code != 0
    assert runner.invoke(args=[*base, "--password-stdin"], input="pw\n").exit_code == 0
    duplicate = runner.invoke(
        args=["identity", "users", "create", "--username", "ＨＡＬ", "--password-stdin"],
        input="pw\n",
    )
    assert duplicate.exit_code == 1
    assert "Username already taken" in duplicate.output


def test_disable_and_list(app: Flask, runner: Any) -> None:
    """disable refuses later logins; list shows the state."""
    runner.invoke(
        args=["identity", "users", "create", "--username", "ivy", "--password-stdin"], input="pw\n"
    )
    assert runner.invoke(args=["identity", "users", "disable", "IVY"]).exit_code == 0
    assert login(app.test_client(), "ivy", "pw").status_code == 401
    listed = json.loads(runner.invoke(args=["identity", "users", "list", "--json"]).stdout)
    assert [(u["username"], u["disabled"]) for u in listed["users"]] == [("ivy", True)]
    missing = runner.invoke(args=["identity", "users", "disable", "nobody"])
    assert missing.exit_code == 1
