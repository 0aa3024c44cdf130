"""The audit log: one record per change made through the admin API or the CLI, in the change's
transaction; refused client authentications counted per client and minute; never a secret."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from identity.extensions import services
from identity.models import AuditEvent, OAuthClient
from identity.models.base import db
from tests.assertion_helpers import jwks, rsa_key
from tests.conftest import access_token, bearer, service_error
from tests.inbox_helpers import ec_key as vendor_ec_key
from tests.partners_helpers import basic, make_client

ADMIN_CLIENT = "ops-admin"


@pytest.fixture
def admin(app: Flask) -> dict[str, str]:
    return bearer(access_token(app, "admin", client_id=ADMIN_CLIENT))


def events(client: FlaskClient, admin: dict[str, str], **query: Any) -> list[dict[str, Any]]:
    response = client.get("/admin/audit-events", query_string=query, headers=admin)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["events"]  # type: ignore[no-any-return]


def raw_table(app: Flask) -> str:
    """Every column of every audit row, as text (what a database dump would show)."""
    with app.app_context():
        rows = db.session.execute(text("SELECT * FROM audit_events")).all()
        return "\n".join(repr(tuple(row)) for row in rows)


def test_each_admin_api_change_is_recorded(
    app: Flask, client: FlaskClient, admin: dict[str, str]
) -> None:
    """Clients, API keys, users, inbox apps, upstream connections, keys: action, target, actor,
    outcome and the request's id; the answers' secrets appear nowhere in the log."""
    secrets: list[str] = []
    done: list[tuple[str, str]] = []

    def call(method: str, path: str, rid: str, **kwargs: Any) -> Any:
        response = getattr(client, method)(path, headers={**admin, "X-Request-Id": rid}, **kwargs)
        assert response.status_code < 300, (path, response.get_data(as_text=True))
        return response.get_json() if response.status_code != 204 else None

    created = call(
        "post", "/admin/clients", "r-client-create", json={"name": "p", "scope": "profile:read"}
    )
    cid = created["client_id"]
    secrets.append(created["client_secret"])
    done.append(("client.create", f"client:{cid}"))
    rotated = call(
        "post", f"/admin/clients/{cid}/rotate-secret", "r-rotate", json={"keep_old_for": 60}
    )
    secrets.append(rotated["client_secret"])
    done.append(("client.rotate_secret", f"client:{cid}"))
    call("post", f"/admin/clients/{cid}/disable", "r-disable")
    done.append(("client.disable", f"client:{cid}"))
    call("post", f"/admin/clients/{cid}/enable", "r-enable")
    done.append(("client.enable", f"client:{cid}"))
    key = rsa_key()
    pk = call(
        "post",
        "/admin/clients",
        "r-pk",
        json={"name": "k", "auth": "private_key_jwt", "jwks": jwks(key)},
    )
    done.append(("client.create", f"client:{pk['client_id']}"))

    api_key = call("post", "/admin/api-keys", "r-ak", json={"name": "k", "scope": "profile:read"})
    secrets.append(api_key["key"])
    done.append(("api_key.create", f"api_key:{api_key['id']}"))
    call("post", f"/admin/api-keys/{api_key['id']}/revoke", "r-ak-revoke")
    done.append(("api_key.revoke", f"api_key:{api_key['id']}"))

    password = "correct horse battery staple"
    secrets.append(password)
    user = call("post", "/admin/users", "r-user", json={"username": "ann", "password": password})
    done.append(("user.create", f"user:{user['customer_id']}"))
    call(
        "patch",
        f"/admin/users/{user['customer_id']}",
        "r-user-upd",
        json={"name": "Ann", "password": password + "!"},
    )
    done.append(("user.update", f"user:{user['customer_id']}"))
    call("delete", f"/admin/users/{user['customer_id']}", "r-user-del")
    done.append(("user.disable", f"user:{user['customer_id']}"))

    vendor_key = vendor_ec_key()
    secrets.append(vendor_key.pem.splitlines()[1])
    call(
        "post",
        "/admin/inbox-apps",
        "r-inbox",
        json={"name": "ss", "vendor": "suprsend", "key": vendor_key.pem},
    )
    done.append(("inbox_app.create", "inbox_app:ss"))
    call("put", "/admin/inbox-apps/ss/key", "r-inbox-key", json={"key": vendor_ec_key().pem})
    done.append(("inbox_app.replace_key", "inbox_app:ss"))
    call("delete", "/admin/inbox-apps/ss", "r-inbox-del")
    done.append(("inbox_app.remove", "inbox_app:ss"))

    upstream_secret = "upstream-s3cret-pass"
    secrets.append(upstream_secret)
    connection = {"name": "sms", "base_url": "https://api.example.test", "method": "ibsso",
                  "username": "ops", "secret": upstream_secret}  # fmt: skip
    call("post", "/admin/upstream/connections", "r-up", json=connection)
    done.append(("upstream.create", "upstream:sms"))
    call("delete", "/admin/upstream/connections/sms", "r-up-del")
    done.append(("upstream.remove", "upstream:sms"))

    kid = call("post", "/admin/keys/rotate", "r-key", json={"promote_after": 3600})["kid"]
    done.append(("key.rotate", f"key:{kid}"))
    call("post", "/admin/keys/promote", "r-promote")
    done.append(("key.promote", f"key:{kid}"))

    listed = [e for e in events(client, admin, limit=100) if e["actor"] != "system"]
    got = [(e["action"], e["target"]) for e in reversed(listed)]
    assert got == done
    for event in listed:
        assert event["actor"] == f"client:{ADMIN_CLIENT}"
        assert event["outcome"] == "success" and event["count"] == 1
        assert event["request_id"].startswith("r-")
        assert set(event) == {
            "id",
            "at",
            "actor",
            "action",
            "target",
            "outcome",
            "request_id",
            "count",
        }
    by_request = {e["request_id"]: e["action"] for e in listed}
    assert by_request["r-rotate"] == "client.rotate_secret"

    key_material = [key.public_jwk()["n"][:40]]
    dumps = [raw_table(app), json.dumps(listed)]
    for needle in secrets + key_material:
        assert not any(needle in dump for dump in dumps), needle


def test_cli_changes_are_recorded_as_cli(app: Flask, runner: Any) -> None:
    """Every CLI change names ``cli``; `audit list --json` is one object; no secret in it."""
    created = json.loads(
        runner.invoke(args=["identity", "clients", "create", "--name", "c", "--json"]).output
    )
    cid = created["client_id"]
    rotated = json.loads(
        runner.invoke(args=["identity", "clients", "rotate-secret", cid, "--json"]).output
    )
    runner.invoke(args=["identity", "clients", "disable", cid])
    runner.invoke(args=["identity", "clients", "enable", cid])
    runner.invoke(args=["identity", "keys", "rotate", "--promote-after", "0"])
    listed = runner.invoke(args=["identity", "audit", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    body = json.loads(listed.output)
    assert set(body) == {"events", "next_cursor"}
    cli_events = [e for e in body["events"] if e["actor"] != "system"]  # system: the first key
    actions = [e["action"] for e in reversed(cli_events)]
    assert actions == [
        "client.create", "client.rotate_secret", "client.disable", "client.enable", "key.rotate",
    ]  # fmt: skip
    assert {e["actor"] for e in cli_events} == {"cli"}
    assert all(e["request_id"] for e in cli_events)
    for secret in (created["client_secret"], rotated["client_secret"]):
        assert secret not in listed.output and secret not in raw_table(app)
    only = runner.invoke(args=["identity", "audit", "list", "--action", "client.disable", "--json"])
    assert [e["target"] for e in json.loads(only.output)["events"]] == [f"client:{cid}"]
    human = runner.invoke(args=["identity", "audit", "list", "--target", f"client:{cid}"])
    assert human.exit_code == 0 and "client.enable" in human.output and "cli" in human.output
    bad = runner.invoke(args=["identity", "audit", "list", "--since", "yesterday"])
    assert bad.exit_code != 0 and "RFC 3339" in bad.output


def test_refused_change_leaves_no_record(
    app: Flask, client: FlaskClient, admin: dict[str, str]
) -> None:
    """A change that is refused or rolled back leaves nothing; exactly one record per change."""
    first = client.post("/admin/keys/rotate", json={"promote_after": 3600}, headers=admin)
    second = client.post("/admin/keys/rotate", json={"promote_after": 3600}, headers=admin)
    assert (first.status_code, second.status_code) == (201, 409)
    body = {"name": "ss", "vendor": "suprsend", "key": vendor_ec_key().pem}
    assert client.post("/admin/inbox-apps", json=body, headers=admin).status_code == 201
    assert client.post("/admin/inbox-apps", json=body, headers=admin).status_code == 409
    bad_jwks = {"name": "x", "auth": "private_key_jwt", "jwks": {"keys": [rsa_key().private_jwk()]}}
    assert client.post("/admin/clients", json=bad_jwks, headers=admin).status_code == 400
    actions = [e["action"] for e in events(client, admin) if e["actor"] != "system"]
    assert sorted(actions) == ["inbox_app.create", "key.rotate"]


def test_no_change_without_its_record(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the record cannot be written, the change is not written either."""
    with app.app_context():
        audit = services().audit

        def broken(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("audit store unavailable")

        monkeypatch.setattr(audit, "record", broken)
        with pytest.raises(RuntimeError):
            services().clients.create("lost", "profile:read")
        db.session.rollback()
    with app.app_context():
        assert db.session.scalars(select(OAuthClient)).all() == []
        assert (
            db.session.scalars(select(AuditEvent).where(AuditEvent.action == "client.create")).all()
            == []
        )


def test_refused_authentications_are_counted_per_client_and_minute(
    app: Flask, client: FlaskClient, admin: dict[str, str]
) -> None:
    """Five wrong secrets: one `client.auth_refused` record with count 5; strangers pooled."""
    partner = make_client(app)
    for _ in range(5):
        response = client.post(
            "/access_token",
            data={"grant_type": "client_credentials"},
            headers=basic(partner.client_id, "wrong-secret-value"),
        )
        assert response.status_code == 401
    client.post(
        "/access_token",
        data={"grant_type": "client_credentials"},
        headers=basic("no-such-client", "whatever"),
    )
    refused = events(client, admin, action="client.auth_refused")
    counts = {e["target"]: (e["count"], e["outcome"], e["actor"]) for e in refused}
    assert counts[f"client:{partner.client_id}"] == (5, "refused", "anonymous")
    assert counts["client:unknown"][0] >= 1  # an earlier test's strangers may share the minute
    assert counts["client:unknown"][1:] == ("refused", "anonymous")
    assert "wrong-secret-value" not in raw_table(app)


def test_refusals_reach_the_database_without_a_reader(app: Flask, client: FlaskClient) -> None:
    """The in-process counts are written within about a second, by the flush thread."""
    partner = make_client(app)
    for _ in range(3):
        client.post(
            "/access_token",
            data={"grant_type": "client_credentials"},
            headers=basic(partner.client_id, "nope"),
        )
    deadline = time.monotonic() + 10
    stored: list[Any] = []
    while time.monotonic() < deadline and not stored:
        time.sleep(0.2)
        with app.app_context():
            stored = db.session.execute(
                select(AuditEvent.count).where(
                    AuditEvent.action == "client.auth_refused",
                    AuditEvent.target == f"client:{partner.client_id}",
                )
            ).all()
    assert [row[0] for row in stored] == [3]


def test_pages_filters_and_bad_queries(
    app: Flask, client: FlaskClient, admin: dict[str, str]
) -> None:
    """Newest first; next_cursor walks every event once; filters are exact; bad input is 400."""
    ids = [make_client(app, "profile:read").client_id for _ in range(5)]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        query = {"limit": 2, "action": "client.create", **({"cursor": cursor} if cursor else {})}
        body = client.get("/admin/audit-events", query_string=query, headers=admin).get_json()
        seen += [e["target"] for e in body["events"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"client:{cid}" for cid in reversed(ids)]
    assert [e["target"] for e in events(client, admin, target=f"client:{ids[2]}")] == [
        f"client:{ids[2]}"
    ]
    future = (datetime.now(UTC) + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    assert events(client, admin, since=future) == []
    past = (datetime.now(UTC) - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    assert len(events(client, admin, since=past, action="client.create")) == 5
    overflow = base64.urlsafe_b64encode(b"9999-12-31T23:59:59-05:00|1").decode()
    for query in (
        {"limit": 0},
        {"limit": 501},
        {"cursor": "@@@"},
        {"cursor": overflow},  # a date past year 9999 in UTC
        {"since": "yesterday"},
    ):
        response = client.get("/admin/audit-events", query_string=query, headers=admin)
        assert response.status_code == 400, query
        assert service_error(response)["messageId"] == "BAD_REQUEST"
    assert client.get("/admin/audit-events").status_code == 401
    partner = bearer(access_token(app, "profile:read"))
    assert client.get("/admin/audit-events", headers=partner).status_code == 403


def test_events_older_than_the_retention_are_pruned(app: Flask) -> None:
    """IDENTITY_AUDIT_RETENTION_DAYS (90): older events go when the log is next written."""
    with app.app_context():
        old = datetime.now(UTC) - timedelta(days=91)
        recent = datetime.now(UTC) - timedelta(days=89)
        for at, target in ((old, "client:old"), (recent, "client:recent")):
            db.session.add(
                AuditEvent(at=at, actor="cli", action="client.create", target=target,
                           outcome="success", count=1)
            )  # fmt: skip
        db.session.commit()
        services().audit._next_prune = 0.0  # as if the last prune were an hour ago
        services().clients.create("new", "profile:read")
        targets = set(db.session.scalars(select(AuditEvent.target)))
    assert "client:old" not in targets
    assert "client:recent" in targets


def test_api_changes_and_grants_are_recorded(
    app: Flask, client: FlaskClient, admin: dict[str, str], runner: Any
) -> None:
    """api.create/update/remove and client.grant, through the admin API and the CLI."""
    orders = {"name": "orders", "audience": "https://orders.example.com", "scopes": ["o:r", "o:w"]}
    assert client.post("/admin/apis", json=orders, headers=admin).status_code == 201
    partner = make_client(app)
    put = client.put(
        f"/admin/clients/{partner.client_id}/grants/orders", json={"scope": "o:r"}, headers=admin
    )
    assert put.status_code == 200
    patched = client.patch("/admin/apis/orders", json={"scopes": ["o:r"]}, headers=admin)
    assert patched.status_code == 200
    granted = runner.invoke(
        args=["identity", "clients", "grant", partner.client_id, "--api", "orders", "--scope", ""]
    )
    assert granted.exit_code == 0, granted.output
    assert client.delete("/admin/apis/orders", headers=admin).status_code == 204
    recorded = [
        (e["action"], e["target"], e["actor"])
        for e in reversed(events(client, admin))
        if e["action"].startswith("api.") or e["action"] == "client.grant"
    ]
    actor = f"client:{ADMIN_CLIENT}"
    assert recorded == [
        ("api.create", "api:orders", actor),
        ("client.grant", f"client:{partner.client_id}", actor),
        ("api.update", "api:orders", actor),
        ("client.grant", f"client:{partner.client_id}", "cli"),
        ("api.remove", "api:orders", actor),
    ]
    # refused: the built-in API cannot be removed, an unknown API cannot be granted
    assert client.delete("/admin/apis/identity", headers=admin).status_code == 409
    assert (
        client.put(
            f"/admin/clients/{partner.client_id}/grants/nope", json={"scope": "x"}, headers=admin
        ).status_code
        == 404
    )
    assert len(events(client, admin, action="api.remove")) == 1
    assert len(events(client, admin, action="client.grant")) == 2


def test_refusals_are_kept_while_the_database_refuses_them(app: Flask, tmp_path: Any) -> None:
    """A failed write keeps the counts; the next write stores all of them, once."""
    from sqlalchemy import create_engine

    from identity.services.audit import AuditLog

    audit = AuditLog(90, flush_after=3600)  # no timer during the test: flushed by hand
    broken = create_engine(f"sqlite:///{tmp_path}/missing/dir/audit.db")
    with app.app_context():
        partner = make_client(app)
        for _ in range(4):
            audit.refused(partner.client_id)
        audit.flush(broken)  # refused by the database: nothing lost
        audit.refused(partner.client_id)
        audit.flush(db.engine)
        audit.flush(db.engine)  # nothing left: no double count
        counts = db.session.scalars(
            select(AuditEvent.count).where(
                AuditEvent.action == "client.auth_refused",
                AuditEvent.target == f"client:{partner.client_id}",
            )
        ).all()
    broken.dispose()
    assert counts == [5]
