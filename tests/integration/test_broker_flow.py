"""The broker against the mock upstream over real HTTP: cache, refresh ahead, invalidate."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from identity.crypto.secretbox import SecretBox
from identity.extensions import services
from identity.models import ExchangeAccount, UpstreamConnection
from identity.models.base import db
from tests import broker_helpers
from tests.broker_helpers import Reader, add_connection
from tests.conftest import access_token, bearer, service_error

# fixtures shared by the broker tests
broker_app = broker_helpers.broker_app
clock = broker_helpers.clock
mock = broker_helpers.mock


def _epoch(rfc3339: str) -> float:
    return datetime.strptime(rfc3339, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


def test_first_read_logs_in_and_later_reads_hit_the_cache(broker_app: Any, mock: Any) -> None:
    """One IBSSO login serves every later read."""
    app = broker_app()
    add_connection(app, mock)
    reader = Reader(app)
    first = reader.read()
    assert first.status_code == 200, first.get_json()
    body = first.get_json()
    assert body["token_type"] == "IBSSO"
    assert body["authorization"].startswith("IBSSO ")
    assert first.headers["Cache-Control"] == "no-store"
    for _ in range(5):
        assert reader.read().get_json() == body
    assert mock.calls["POST /auth/1/session"] == 1
    assert body["authorization"].split()[1] in mock.state.valid_sessions()


@pytest.mark.parametrize("expires_in", ["number", "string", "missing"])
def test_oauth2_lifetime_from_expires_in_or_the_default(
    broker_app: Any, mock: Any, clock: Any, expires_in: str
) -> None:
    """``expires_in`` as number or string sets the expiry; missing → the configured default."""
    app = broker_app(broker_default_lifetime=1234)
    mock.set(lifetime=600, expires_in=expires_in)
    add_connection(app, mock, method="oauth2")
    body = Reader(app).read().get_json()
    assert body["token_type"] == "Bearer"
    assert body["authorization"].split()[1] in mock.state.tokens
    expected = 1234 if expires_in == "missing" else 600
    assert _epoch(body["expires_at"]) == pytest.approx(clock.now + expected, abs=1)


def test_refresh_happens_ahead_of_expiry_and_destroys_the_old_session(
    broker_app: Any, mock: Any, clock: Any
) -> None:
    """At 80 % of the lifetime one new login is made, after logging the old session out."""
    app = broker_app(broker_refresh_fraction=0.8, broker_refresh_margin=300)
    add_connection(app, mock, lifetime=100)
    reader = Reader(app)
    old = reader.read().get_json()["authorization"]
    clock.advance(79)
    assert reader.read().get_json()["authorization"] == old
    assert mock.logins == 1
    clock.advance(2)  # 81 s: past refresh time, still 19 s before expiry
    new = reader.read().get_json()
    assert new["authorization"] != old
    assert mock.state.history == [
        "POST /auth/1/session",
        "DELETE /auth/1/session",
        "POST /auth/1/session",
    ]
    assert old.split()[1] in mock.state.destroyed
    assert _epoch(new["expires_at"]) == pytest.approx(clock.now + 100, abs=1)


def test_a_reader_never_receives_an_expired_token(broker_app: Any, mock: Any, clock: Any) -> None:
    """Past expiry with the upstream down, the answer is 503, not the expired token."""
    app = broker_app()
    add_connection(app, mock, method="oauth2", lifetime=100)
    reader = Reader(app)
    assert reader.read().status_code == 200
    mock.fail("500")
    clock.advance(99)  # within the 5 s grace before expiry: not handed out any more
    response = reader.read()
    assert response.status_code == 503
    assert service_error(response)["messageId"] == "UPSTREAM_UNAVAILABLE"


def test_a_restart_reuses_the_shared_token(broker_app: Any, mock: Any) -> None:
    """A new instance over the same database (and Redis) serves the token without a login."""
    first = broker_app()
    add_connection(first, mock)
    token = Reader(first).read().get_json()["authorization"]
    second = broker_app()
    assert Reader(second).read().get_json()["authorization"] == token
    assert mock.logins == 1


def test_the_shared_level_holds_the_token_encrypted(broker_app: Any, mock: Any) -> None:
    """Neither the upstream_tokens row nor the Redis value contains the token in clear."""
    app = broker_app()
    add_connection(app, mock)
    token = Reader(app).read().get_json()["authorization"].split()[1]
    with app.app_context():
        store = services().broker.store
        record = store.load("sms")
        assert record is not None and token not in record.sealed
        opened = SecretBox(services().settings.encryption_keys).open(record.sealed)
        assert opened == f"IBSSO {token}"
        if store.backend == "redis":
            raw = store.primary.client.get(store.primary._k("token", "sms"))
            assert token.encode() not in raw


def test_invalidate_fetches_once_and_destroys_the_old_session_first(
    broker_app: Any, mock: Any
) -> None:
    """After invalidate, the next read logs out the old session, then logs in once."""
    app = broker_app()
    add_connection(app, mock)
    reader = Reader(app)
    old = reader.read().get_json()["authorization"]
    response = reader.invalidate()
    assert response.status_code == 204
    new = reader.read().get_json()["authorization"]
    assert reader.read().get_json()["authorization"] == new != old
    assert mock.state.history == [
        "POST /auth/1/session",
        "DELETE /auth/1/session",
        "POST /auth/1/session",
    ]
    assert old.split()[1] in mock.state.destroyed


def test_invalidate_reaches_other_instances_within_the_local_ttl(
    broker_app: Any, mock: Any, clock: Any
) -> None:
    """Another instance stops serving the invalidated token once its local copy is re-checked."""
    first, second = broker_app(), broker_app()
    add_connection(first, mock)
    old = Reader(first).read().get_json()["authorization"]
    assert Reader(second).read().get_json()["authorization"] == old
    assert Reader(first).invalidate().status_code == 204
    clock.advance(services(second).settings.broker_local_ttl + 0.1)
    new = Reader(second).read().get_json()["authorization"]
    assert new != old
    assert Reader(first).read().get_json()["authorization"] == new
    assert mock.logins == 2


def test_api_key_and_basic_make_no_upstream_call(broker_app: Any, mock: Any) -> None:
    """``App <secret>`` and ``Basic base64(user:secret)`` are built from the stored secret."""
    app = broker_app()
    add_connection(app, mock, name="key", method="api_key", secret="k-123")
    add_connection(app, mock, name="basic", method="basic", username="bob", secret="pw")
    reader = Reader(app)
    key = reader.read("key").get_json()
    assert key == {"authorization": "App k-123", "token_type": "App", "expires_at": None}
    basic = reader.read("basic").get_json()
    assert basic["authorization"] == "Basic " + base64.b64encode(b"bob:pw").decode()
    assert sum(mock.calls.values()) == 0


def _exchange_account(app: Any, expires_at: datetime) -> None:
    with app.app_context():
        box = SecretBox(services().settings.encryption_keys)
        db.session.add(
            ExchangeAccount(
                account_key="ACC1",
                user_key="u1",
                username="ann",
                token_type="IBSSO",
                token_sealed=box.seal("exch-token"),
                expires_at=expires_at,
            )
        )
        db.session.add(
            UpstreamConnection(
                name="exchange-acc1",
                method="exchange",
                base_url=services().settings.exchange_base_url,
                account_key="ACC1",
            )
        )
        db.session.commit()


def test_exchange_connection_serves_the_stored_token(broker_app: Any, mock: Any) -> None:
    """An Exchange account's token is answered as is, with no upstream call."""
    app = broker_app()
    _exchange_account(app, datetime.now(UTC) + timedelta(hours=1))
    body = Reader(app).read("exchange-acc1").get_json()
    assert body["authorization"] == "IBSSO exch-token"
    assert body["token_type"] == "IBSSO"
    assert sum(mock.calls.values()) == 0


def test_expired_exchange_authorization_is_409_with_reconnect_url(broker_app: Any) -> None:
    """It cannot be refreshed without the user: 409 CONFLICT naming where to reconnect."""
    app = broker_app()
    _exchange_account(app, datetime.now(UTC) - timedelta(seconds=1))
    response = Reader(app).read("exchange-acc1")
    assert response.status_code == 409
    error = service_error(response)
    assert error["messageId"] == "CONFLICT"
    assert error["reconnect_url"] == "http://identity.test/exchange/connect"


def test_unknown_connection_is_404(broker_app: Any) -> None:
    """Reading or invalidating a connection that does not exist is 404 NOT_FOUND."""
    reader = Reader(broker_app())
    assert service_error(reader.read("nope"))["messageId"] == "NOT_FOUND"
    assert reader.invalidate("nope").status_code == 404


def test_callers_need_an_access_token_with_upstream_read(broker_app: Any, mock: Any) -> None:
    """No token → 401; a token without ``upstream:read`` → 403; no upstream call either way."""
    app = broker_app()
    add_connection(app, mock)
    client = app.test_client()
    url = "/upstream/connections/sms/authorization"
    assert client.get(url).status_code == 401
    other = bearer(access_token(app, "profile:read"))
    assert client.get(url, headers=other).status_code == 403
    assert client.post("/upstream/connections/sms/invalidate", headers=other).status_code == 403
    assert mock.logins == 0


def test_metrics_count_upstream_calls_and_cache_hits(broker_app: Any, mock: Any) -> None:
    """/metrics shows the login by connection and outcome, and the local cache hits."""
    app = broker_app()
    add_connection(app, mock, name="metered")
    reader = Reader(app)
    reader.read("metered")
    reader.read("metered")
    text = app.test_client().get("/metrics").get_data(as_text=True)
    assert (
        'identity_upstream_calls_total{call="POST /auth/1/session",connection="metered",'
        'outcome="ok"} 1.0' in text
    )
    assert 'identity_upstream_cache_total{level="local",result="hit"}' in text
    assert 'identity_upstream_time_to_token_seconds_count{connection="metered"} 1.0' in text


def test_invalidations_naming_the_failed_header_cause_one_refresh(
    broker_app: Any, mock: Any
) -> None:
    """Ten callers reporting the same failed header → one new login; a stale report is ignored."""
    app = broker_app()
    add_connection(app, mock)
    reader = Reader(app)
    old = reader.read().get_json()["authorization"]
    for _ in range(10):
        assert reader.invalidate(header=old).status_code == 204
        reader.read()
    new = reader.read().get_json()["authorization"]
    assert new != old
    assert mock.calls["POST /auth/1/session"] == 2
    assert reader.invalidate(header="IBSSO not-the-current-one").status_code == 204
    assert reader.read().get_json()["authorization"] == new
    assert mock.calls["POST /auth/1/session"] == 2
