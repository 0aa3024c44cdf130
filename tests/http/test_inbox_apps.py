"""Inbox apps (docs/inbox.md): vendor formats signed with imported vendor keys, app choice,
key import and replacement, and secrets that never come back out."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from pathlib import Path
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from identity.extensions import services
from identity.models.base import db
from identity.models.inbox import InboxApp
from identity.setup import check_startup
from tests.conftest import access_token, api_key, bearer, service_error
from tests.customers_helpers import create_customer, customer_token
from tests.inbox_helpers import (
    MAGICBELL_SECRET,
    NOVU_SECRET,
    cli,
    ec_key,
    encrypted_pem,
    rsa_key,
)

ES_API_KEY = "es-public-api-key"
MB_API_KEY = "pk_magicbell_public"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"inbox_api_key": ""}  # no implicit legacy app unless a test asks for one


def add(app: Flask, *args: str, key: str | None = None, **kw: Any) -> dict[str, Any]:
    """``identity inbox-apps add ... --key-stdin --json``; asserts success."""
    extra = ["--key-stdin"] if key is not None else []
    result = cli(app, "inbox-apps", "add", *args, *extra, "--json", stdin=key, **kw)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def add_engagespot(app: Flask, name: str = "es", key: Any = None, *more: str) -> None:
    pem = (key or rsa_key()).pem
    add(app, "--name", name, "--vendor", "engagespot", "--api-key", ES_API_KEY, *more, key=pem)


def issue(flask_app: Flask, client: FlaskClient, identifier: str = "user-1", **body: Any) -> Any:
    headers = {"X-API-Key": api_key(flask_app, "inbox:issue")}
    return client.post("/v1/inbox/tokens", json={"identifier": identifier, **body}, headers=headers)


def admin(app: Flask) -> dict[str, str]:
    return bearer(access_token(app, "admin"))


# --- each vendor's format -------------------------------------------------------------------
def test_engagespot_token_is_the_vendor_format(app: Flask, client: FlaskClient) -> None:
    """RS256 with the imported key, payload exactly sub/apiKey/iat/exp, answer names the app."""
    add_engagespot(app)
    response = issue(app, client, "alice", app="es")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == {"token", "expires_in", "app", "vendor"}
    assert (body["app"], body["vendor"], body["expires_in"]) == ("es", "engagespot", 3600)
    assert jwt.get_unverified_header(body["token"]) == {"alg": "RS256", "typ": "JWT"}
    claims = jwt.decode(body["token"], rsa_key().public_pem, algorithms=["RS256"])
    assert set(claims) == {"sub", "apiKey", "iat", "exp"}
    assert claims["sub"] == "user:alice" and claims["apiKey"] == ES_API_KEY
    assert claims["exp"] - claims["iat"] == 3600


@pytest.mark.parametrize("form", ["pem", "escaped", "base64", "stdin", "file"])
def test_knock_rsa_key_in_every_form(
    app: Flask, client: FlaskClient, tmp_path: Path, form: str
) -> None:
    """Knock: RS256 {sub, iat, exp}, whichever way the RSA key arrived."""
    key = rsa_key(1)
    if form == "file":
        path = tmp_path / "private.key"
        path.write_text(key.form("base64"))
        result = cli(app, "inbox-apps", "add", "--name", "kn", "--vendor", "knock",
                     "--key-file", str(path), "--json")  # fmt: skip
        assert result.exit_code == 0, result.output
    else:
        add(app, "--name", "kn", "--vendor", "knock", key=key.form(form.replace("stdin", "pem")))
    body = issue(app, client, "bob", app="kn").get_json()
    assert body["vendor"] == "knock"
    claims = jwt.decode(body["token"], key.public_pem, algorithms=["RS256"])
    assert claims == {"sub": "bob", "iat": claims["iat"], "exp": claims["iat"] + 3600}


@pytest.mark.parametrize("form", ["pem", "escaped", "base64"])
def test_suprsend_ec_key_in_every_form(app: Flask, client: FlaskClient, form: str) -> None:
    """SuprSend: ES256 {entity_type: subscriber, entity_id, iat, exp}; verifies in PyJWT."""
    add(app, "--name", "ss", "--vendor", "suprsend", key=ec_key().form(form))
    body = issue(app, client, "carol", app="ss").get_json()
    assert jwt.get_unverified_header(body["token"])["alg"] == "ES256"
    claims = jwt.decode(body["token"], ec_key().public_pem, algorithms=["ES256"])
    assert set(claims) == {"entity_type", "entity_id", "iat", "exp"}
    assert claims["entity_type"] == "subscriber" and claims["entity_id"] == "carol"


def test_novu_subscriber_hash(app: Flask, client: FlaskClient) -> None:
    """Novu: lowercase hex HMAC-SHA256 of the identifier; expires_in null."""
    add(app, "--name", "nv", "--vendor", "novu", key=NOVU_SECRET + "\n")
    body = issue(app, client, "dave é", app="nv").get_json()
    expected = hmac.new(NOVU_SECRET.encode(), "dave é".encode(), hashlib.sha256).hexdigest()
    assert body == {"token": expected, "expires_in": None, "app": "nv", "vendor": "novu"}


def test_magicbell_user_jwt(app: Flask, client: FlaskClient) -> None:
    """MagicBell: HS256 {user_external_id, api_key, exp} with the project's secret key."""
    add(app, "--name", "mb", "--vendor", "magicbell", "--api-key", MB_API_KEY,
        "--lifetime", "600", key=MAGICBELL_SECRET)  # fmt: skip
    body = issue(app, client, "erin", app="mb").get_json()
    claims = jwt.decode(body["token"], MAGICBELL_SECRET, algorithms=["HS256"])
    assert set(claims) == {"user_external_id", "api_key", "exp"}
    assert claims["user_external_id"] == "erin" and claims["api_key"] == MB_API_KEY
    assert body["expires_in"] == 600


def test_inbox_token_for_a_customer_names_the_app(app: Flask, client: FlaskClient) -> None:
    """/inbox/token with {"app"} and a Bearer customer token: identifier = customer ID."""
    add_engagespot(app)
    add(app, "--name", "kn", "--vendor", "knock", key=rsa_key(1).pem)
    alice = create_customer(app, "alice")
    response = client.post(
        "/inbox/token", json={"app": "kn"}, headers=bearer(customer_token(client))
    )
    assert response.status_code == 200, response.get_json()
    claims = jwt.decode(response.get_json()["token"], rsa_key(1).public_pem, algorithms=["RS256"])
    assert claims["sub"] == alice["customer_id"]
    default = client.post("/inbox/token", headers=bearer(customer_token(client))).get_json()
    assert default["app"] == "es"


def test_iat_backdate_and_app_lifetime(make_app: Any) -> None:
    """IDENTITY_INBOX_IAT_BACKDATE moves iat back; exp follows the app's lifetime from now."""
    app = make_app(inbox_iat_backdate=30)
    add_engagespot(app, "es", None, "--lifetime", "300")
    body = issue(app, app.test_client()).get_json()
    claims = jwt.decode(body["token"], rsa_key().public_pem, algorithms=["RS256"])
    assert claims["exp"] - claims["iat"] == 330 and body["expires_in"] == 300


# --- app choice ------------------------------------------------------------------------------
def test_first_app_is_default_and_default_moves(app: Flask, client: FlaskClient) -> None:
    """The first app answers requests without "app"; --default hands that role to another."""
    assert add(app, "--name", "kn", "--vendor", "knock", key=rsa_key(1).pem)["default"] is True
    assert issue(app, client).get_json()["app"] == "kn"
    add_engagespot(app, "es", None, "--default")
    assert issue(app, client).get_json()["app"] == "es"
    listing = json.loads(cli(app, "inbox-apps", "list", "--json").output)["apps"]
    assert {a["name"]: a["default"] for a in listing} == {"es": True, "kn": False}


def test_unknown_app_is_404(app: Flask, client: FlaskClient) -> None:
    add_engagespot(app)
    response = issue(app, client, app="nope")
    assert response.status_code == 404
    assert service_error(response)["messageId"] == "NOT_FOUND"


@pytest.mark.parametrize("name", ["", "a b", "x" * 101, 7, "../etc"])
def test_invalid_app_name_is_400(app: Flask, client: FlaskClient, name: Any) -> None:
    response = issue(app, client, app=name)
    assert response.status_code == 400
    assert "app" in service_error(response)["validationErrors"]


def test_no_app_configured_is_503_and_start_up_warns(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Both endpoints answer 503 (never 500); the start-up check warns and does not refuse."""
    create_customer(app, "alice")
    for response in (
        issue(app, client),
        client.post("/inbox/token", headers=bearer(customer_token(client))),
    ):
        assert response.status_code == 503 and response.headers["Retry-After"] == "60"
        error = service_error(response)
        assert error["messageId"] == "UPSTREAM_UNAVAILABLE"
        assert "No inbox app is configured" in error["text"]
    with caplog.at_level(logging.WARNING, logger="identity.startup"):
        check_startup(app)
    assert [r.getMessage() for r in caplog.records if "inbox" in r.getMessage()] == [
        "inbox: no inbox app configured; /inbox/token and /v1/inbox/tokens answer 503 until "
        "one is added (identity inbox-apps add; docs/inbox.md)"
    ]


def test_removing_the_default_leaves_no_default(app: Flask, client: FlaskClient) -> None:
    add_engagespot(app)
    add(app, "--name", "kn", "--vendor", "knock", key=rsa_key(1).pem)
    assert cli(app, "inbox-apps", "remove", "es").exit_code == 0
    response = issue(app, client)
    assert response.status_code == 503 and "No default inbox app" in service_error(response)["text"]
    assert issue(app, client, app="kn").status_code == 200


# --- legacy and first run --------------------------------------------------------------------
def test_legacy_api_key_is_an_implicit_own_key_app(
    make_app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Only IDENTITY_INBOX_API_KEY: own-key Engagespot tokens as before, one start-up warning."""
    app = make_app(inbox_api_key="legacy-vendor-key")
    client = app.test_client()
    body = issue(app, client).get_json()
    assert (body["app"], body["vendor"]) == ("legacy", "engagespot")
    pem = client.get("/inbox/public-key.pem").get_data(as_text=True)
    claims = jwt.decode(body["token"], pem, algorithms=["RS256"])
    assert claims["apiKey"] == "legacy-vendor-key" and claims["sub"] == "user:user-1"
    with caplog.at_level(logging.WARNING, logger="identity.startup"):
        check_startup(app)
    warnings = [r.getMessage() for r in caplog.records if r.name == "identity.startup"]
    assert len(warnings) == 1 and warnings[0].startswith("IDENTITY_INBOX_API_KEY:")
    shown = json.loads(cli(app, "inbox-apps", "show", "legacy", "--json").output)
    assert shown["implicit"] is True and shown["own_key"] is True
    add_engagespot(app, "es", None, "--default")  # an imported default takes over
    assert issue(app, client).get_json()["app"] == "es"
    assert issue(app, client, app="legacy").get_json()["app"] == "legacy"


def test_init_creates_a_local_development_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`identity init` on a fresh SQLite install: an own-key app issues tokens at once."""
    from identity.app import create_app
    from identity.crypto import keys as keycrypto
    from tests.conftest import TEST_SECRETS

    # A key of our own: drawing from the session's key pool would shift which pooled key other
    # tests' rotations get (and collide with a kid already in their database).
    monkeypatch.setattr(keycrypto, "generate_rsa_key", lambda bits=2048: rsa_key(5).private)

    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    app = create_app({**TEST_SECRETS, "inbox_api_key": "", "database_url": url})
    result = app.test_cli_runner().invoke(args=["identity", "init"])
    assert result.exit_code == 0, result.output
    assert "created inbox app 'local-development'" in result.output
    body = issue(app, app.test_client()).get_json()
    assert (body["app"], body["vendor"]) == ("local-development", "engagespot")
    again = app.test_cli_runner().invoke(args=["identity", "init"])
    assert "created inbox app" not in again.output  # safe to run again
    with app.app_context():
        db.engine.dispose()


# --- import refusals -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("vendor", "material", "expected"),
    [
        ("knock", lambda: rsa_key(2, 1024).pem, "RSA key of 1024 bits is too short"),
        ("suprsend", lambda: rsa_key().pem, "expected an EC P-256"),
        ("engagespot", lambda: "garbage!", "not a PEM key nor base64 of one"),
        ("knock", lambda: encrypted_pem(rsa_key()), "the PEM is encrypted"),
        ("novu", lambda: "", "empty secret"),
        ("knock", lambda: rsa_key().pem + rsa_key(2).pem, "holds exactly one key"),
        ("knock", lambda: ec_key().pem + rsa_key().pem, "holds exactly one key"),
        ("suprsend", lambda: ec_key().pem + rsa_key().pem, "holds exactly one key"),
    ],
)
def test_wrong_keys_are_refused_by_cli_and_admin_api(
    app: Flask, client: FlaskClient, vendor: str, material: Any, expected: str
) -> None:
    """A clear message naming what was expected; nothing is stored."""
    raw = material()
    args = ["--name", "bad", "--vendor", vendor, "--api-key", "k", "--key-stdin"]
    result = cli(app, "inbox-apps", "add", *args, stdin=raw)
    assert result.exit_code != 0 and expected in result.output
    response = client.post(
        "/admin/inbox-apps",
        json={"name": "bad", "vendor": vendor, "api_key": "k", "key": raw},
        headers=admin(app),
    )
    assert response.status_code == 400
    assert expected in service_error(response)["validationErrors"]["key"][0]
    assert json.loads(cli(app, "inbox-apps", "list", "--json").output) == {"apps": []}


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--vendor", "engagespot", "--own-key"], "api_key"),
        (["--vendor", "suprsend", "--own-key"], "own_key"),
        (["--vendor", "novu", "--lifetime", "600", "--own-key"], "lifetime"),
    ],
)
def test_invalid_app_settings_are_refused(app: Flask, args: list[str], field: str) -> None:
    result = cli(app, "inbox-apps", "add", "--name", "x", *args)
    assert result.exit_code != 0 and "Invalid inbox app: " in result.output
    assert f"{field}: " in result.output


# --- replace-key -----------------------------------------------------------------------------
def test_replace_key_swaps_at_once(app: Flask, client: FlaskClient) -> None:
    """Old tokens stop verifying with the new public key; new tokens verify only with it."""
    add(app, "--name", "kn", "--vendor", "knock", key=rsa_key(1).pem)
    before = issue(app, client, app="kn").get_json()["token"]
    result = cli(
        app, "inbox-apps", "replace-key", "kn", "--key-stdin", stdin=rsa_key(3).form("base64")
    )
    assert result.exit_code == 0 and "signed with the new key from now on" in result.output
    after = issue(app, client, app="kn").get_json()["token"]
    jwt.decode(after, rsa_key(3).public_pem, algorithms=["RS256"])
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(before, rsa_key(3).public_pem, algorithms=["RS256"])
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(after, rsa_key(1).public_pem, algorithms=["RS256"])
    refused = cli(app, "inbox-apps", "replace-key", "kn", "--key-stdin", stdin=ec_key().pem)
    assert refused.exit_code != 0 and "expected an RSA private key" in refused.output


def test_replace_key_reaches_every_instance(make_app: Any) -> None:
    """An instance that cached the old key signs with the new one after a replace elsewhere."""
    one, two = make_app(), make_app()
    add(one, "--name", "kn", "--vendor", "knock", key=rsa_key(1).pem)
    issue(two, two.test_client(), app="kn")  # instance two loads and caches key 1
    cli(one, "inbox-apps", "replace-key", "kn", "--key-stdin", stdin=rsa_key(3).pem)
    token = issue(two, two.test_client(), app="kn").get_json()["token"]
    jwt.decode(token, rsa_key(3).public_pem, algorithms=["RS256"])


def test_reencrypt_reseals_imported_keys(make_app: Any) -> None:
    """`identity upstream reencrypt` moves imported keys to the newest encryption key."""
    from cryptography.fernet import Fernet

    from tests.conftest import TEST_SECRETS

    old = TEST_SECRETS["encryption_keys"]
    app = make_app()
    add(app, "--name", "ss", "--vendor", "suprsend", key=ec_key().pem)
    new = Fernet.generate_key().decode()
    rotated = make_app(encryption_keys=(new, *old))
    assert cli(rotated, "upstream", "reencrypt").exit_code == 0
    only_new = make_app(encryption_keys=(new,))
    token = issue(only_new, only_new.test_client(), app="ss").get_json()["token"]
    jwt.decode(token, ec_key().public_pem, algorithms=["ES256"])


# --- secrets never come back out ---------------------------------------------------------------
def test_key_material_is_never_shown_logged_or_stored_plain(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Listings, show, admin answers, log lines and the stored row carry no key material."""
    caplog.set_level(logging.DEBUG)
    secrets = [rsa_key().pem, MAGICBELL_SECRET]
    needles = [MAGICBELL_SECRET, "PRIVATE KEY", rsa_key().pem.splitlines()[1]]
    outputs = [
        cli(app, "inbox-apps", "add", "--name", "es", "--vendor", "engagespot", "--api-key",
            ES_API_KEY, "--key-stdin", stdin=secrets[0]).output,
        cli(app, "inbox-apps", "add", "--name", "mb", "--vendor", "magicbell", "--api-key",
            MB_API_KEY, "--key-stdin", "--json", stdin=secrets[1]).output,
    ]  # fmt: skip
    headers = admin(app)
    outputs += [
        cli(app, "inbox-apps", "list").output,
        cli(app, "inbox-apps", "list", "--json").output,
        cli(app, "inbox-apps", "show", "mb", "--json").output,
        cli(app, "inbox-apps", "replace-key", "mb", "--key-stdin", stdin=secrets[1]).output,
        client.get("/admin/inbox-apps", headers=headers).get_data(as_text=True),
        client.get("/admin/inbox-apps/es", headers=headers).get_data(as_text=True),
        client.put("/admin/inbox-apps/mb/key", json={"key": secrets[1]}, headers=headers)
        .get_data(as_text=True),
        client.post("/admin/inbox-apps", headers=headers, json={
            "name": "kn", "vendor": "knock", "key": rsa_key().form("escaped")})
        .get_data(as_text=True),
    ]  # fmt: skip
    issue(app, client, app="mb")
    outputs += [record.getMessage() for record in caplog.records]
    with app.app_context():
        rows = db.session.scalars(select(InboxApp)).all()
        outputs += [str(row.key_sealed) for row in rows] + [repr(row) for row in rows]
        outputs += [repr(services().inbox_apps.get("mb")), repr(services().inbox)]
    for needle in needles:
        assert not any(needle in text for text in outputs), needle


# --- admin API -------------------------------------------------------------------------------
def test_admin_api_round_trip(app: Flask, client: FlaskClient) -> None:
    """POST 201, GET list and one, PUT key, DELETE 204; admin scope required."""
    headers = admin(app)
    body = {"name": "ss", "vendor": "suprsend", "key": ec_key().form("base64"), "default": True}
    created = client.post("/admin/inbox-apps", json=body, headers=headers)
    assert created.status_code == 201
    shown = created.get_json()
    assert shown["name"] == "ss" and shown["key"] == "EC P-256" and shown["algorithm"] == "ES256"
    assert shown["default"] is True and "key_sealed" not in shown
    again = client.post("/admin/inbox-apps", json=body, headers=headers)
    assert again.status_code == 409
    listing = client.get("/admin/inbox-apps", headers=headers).get_json()["apps"]
    assert [a["name"] for a in listing] == ["ss"]
    put = client.put("/admin/inbox-apps/ss/key", json={"key": ec_key(1).pem}, headers=headers)
    assert put.status_code == 200 and put.get_json()["key_replaced_at"]
    token = issue(app, client, app="ss").get_json()["token"]
    jwt.decode(token, ec_key(1).public_pem, algorithms=["ES256"])
    assert client.delete("/admin/inbox-apps/ss", headers=headers).status_code == 204
    assert client.get("/admin/inbox-apps/ss", headers=headers).status_code == 404
    other = bearer(access_token(app, "profile:read"))
    assert client.get("/admin/inbox-apps", headers=other).status_code == 403
    assert client.get("/admin/inbox-apps").status_code == 401
