"""Admin API and CLI for upstream connections: secrets sealed at rest, never returned."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from identity.crypto.secretbox import SecretBox
from identity.extensions import services
from identity.models import AppSetting, ExchangeAccount, UpstreamConnection
from identity.models.base import db
from tests import broker_helpers
from tests.conftest import access_token, bearer, service_error

# fixtures shared by the broker tests
broker_app = broker_helpers.broker_app
clock = broker_helpers.clock
mock = broker_helpers.mock

URL = "/admin/upstream/connections"


def _admin(app: Any) -> dict[str, str]:
    return bearer(access_token(app, "admin"))


def _ibsso(base_url: str = "https://api.example.test", **extra: Any) -> dict[str, Any]:
    return {
        "name": "sms",
        "base_url": base_url,
        "method": "ibsso",
        "username": "ops",
        "secret": "s3cret-pass",
        **extra,
    }


def test_create_list_get_delete_without_ever_returning_the_secret(broker_app: Any) -> None:
    """The secret goes in once; no answer carries it; the row holds it sealed."""
    app = broker_app()
    client, headers = app.test_client(), _admin(app)
    created = client.post(URL, json=_ibsso(), headers=headers)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["has_secret"] is True
    listed = client.get(URL, headers=headers)
    one = client.get(f"{URL}/sms", headers=headers)
    for response in (created, listed, one):
        assert "s3cret-pass" not in response.get_data(as_text=True)
        assert "secret_sealed" not in response.get_data(as_text=True)
    assert [c["name"] for c in listed.get_json()["connections"]] == ["sms"]
    assert one.get_json()["method"] == "ibsso"
    with app.app_context():
        row = db.session.query(UpstreamConnection).one()
        assert "s3cret-pass" not in row.secret_sealed
        assert (
            SecretBox(services().settings.encryption_keys).open(row.secret_sealed) == "s3cret-pass"
        )
        assert "s3cret" not in repr(row)
    assert client.delete(f"{URL}/sms", headers=headers).status_code == 204
    assert client.get(f"{URL}/sms", headers=headers).status_code == 404


def test_duplicate_name_is_409(broker_app: Any) -> None:
    """A second connection with the same name is refused with CONFLICT."""
    app = broker_app()
    client, headers = app.test_client(), _admin(app)
    assert client.post(URL, json=_ibsso(), headers=headers).status_code == 201
    again = client.post(URL, json=_ibsso(), headers=headers)
    assert again.status_code == 409
    assert service_error(again)["messageId"] == "CONFLICT"


def test_invalid_connections_are_400_with_field_errors(broker_app: Any) -> None:
    """Unknown method, bad URL, missing per-method fields: 400 naming the fields."""
    app = broker_app()
    client, headers = app.test_client(), _admin(app)
    bad_method = client.post(URL, json=_ibsso(method="magic"), headers=headers)
    assert service_error(bad_method)["validationErrors"].keys() == {"method"}
    no_user = client.post(URL, json=_ibsso(username=None), headers=headers)
    assert no_user.status_code == 400
    assert "username" in service_error(no_user)["validationErrors"]
    bad_url = client.post(URL, json=_ibsso(base_url="ftp://x"), headers=headers)
    assert "base_url" in service_error(bad_url)["validationErrors"]
    no_secret = {"name": "o", "base_url": "https://x.test", "method": "oauth2", "client_id": "c"}
    assert (
        "secret"
        in service_error(client.post(URL, json=no_secret, headers=headers))["validationErrors"]
    )


def test_admin_api_needs_the_admin_scope(broker_app: Any) -> None:
    """No token → 401; ``upstream:read`` is not enough → 403."""
    app = broker_app()
    client = app.test_client()
    assert client.get(URL).status_code == 401
    reader = bearer(access_token(app, "upstream:read"))
    assert client.get(URL, headers=reader).status_code == 403
    assert client.post(URL, json=_ibsso(), headers=reader).status_code == 403


def test_openapi_documents_the_broker_endpoints(broker_app: Any) -> None:
    """The authorization, invalidate and admin paths are in /openapi.json."""
    paths = broker_app().test_client().get("/openapi.json").get_json()["paths"]
    assert "get" in paths["/upstream/connections/{name}/authorization"]
    assert "post" in paths["/upstream/connections/{name}/invalidate"]
    assert {"get", "post"} <= set(paths["/admin/upstream/connections"])
    assert {"get", "delete"} <= set(paths["/admin/upstream/connections/{name}"])


def test_cli_add_list_test_remove(broker_app: Any, mock: Any) -> None:
    """``identity upstream add --secret-stdin --json`` then list, test and remove."""
    app = broker_app()
    runner = app.test_cli_runner()
    added = runner.invoke(
        args=[
            "identity",
            "upstream",
            "add",
            "--name",
            "sms",
            "--base-url",
            mock.base_url,
            "--method",
            "ibsso",
            "--username",
            "user",
            "--secret-stdin",
            "--json",
        ],
        input="pass\n",
    )
    assert added.exit_code == 0, added.output
    assert json.loads(added.output) == {"name": "sms", "method": "ibsso"}
    listed = runner.invoke(args=["identity", "upstream", "list", "--json"])
    assert "pass" not in listed.output.replace("has_secret", "")
    assert json.loads(listed.output)["connections"][0]["has_secret"] is True
    tested = runner.invoke(args=["identity", "upstream", "test", "sms", "--json"])
    assert tested.exit_code == 0, tested.output
    result = json.loads(tested.output)
    assert result["ok"] is True and result["token_type"] == "IBSSO"
    assert mock.calls["POST /auth/1/session"] == 1
    assert all(token not in tested.output for token in mock.state.sessions)
    removed = runner.invoke(args=["identity", "upstream", "remove", "sms", "--json"])
    assert json.loads(removed.output) == {"removed": "sms"}


def test_cli_reencrypt_moves_secrets_to_the_newest_key(make_app: Any) -> None:
    """After prepending a new key, ``reencrypt`` re-seals so the old key can be dropped."""
    from cryptography.fernet import Fernet

    from tests.conftest import TEST_SECRETS

    old_key = TEST_SECRETS["encryption_keys"][0]
    new_key = Fernet.generate_key().decode()
    app = make_app()
    app.test_client().post(URL, json=_ibsso(), headers=_admin(app))
    old_box = SecretBox((old_key,))
    with app.app_context():  # an Exchange account and a secret app setting, sealed with old_key
        db.session.add(
            ExchangeAccount(
                account_key="ACC1",
                user_key="U1",
                username="u",
                token_sealed=old_box.seal("ib-token"),
                expires_at=datetime.now(UTC) + timedelta(hours=1),
            )
        )
        db.session.add(
            AppSetting(
                account_key="ACC1",
                name="partner_api_key",
                is_secret=True,
                value=old_box.seal("setting-secret"),
            )
        )
        db.session.commit()
    rotated = make_app(encryption_keys=(new_key, old_key))
    result = rotated.test_cli_runner().invoke(args=["identity", "upstream", "reencrypt", "--json"])
    assert json.loads(result.output) == {"connections": 1}
    new_box = SecretBox((new_key,))
    with rotated.app_context():
        row = db.session.query(UpstreamConnection).one()
        assert new_box.open(row.secret_sealed) == "s3cret-pass"
        assert new_box.open(db.session.get(ExchangeAccount, "ACC1").token_sealed) == "ib-token"
        setting = db.session.get(AppSetting, ("ACC1", "partner_api_key"))
        assert new_box.open(setting.value) == "setting-secret"
