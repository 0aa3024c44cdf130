"""Dependencies going away: clean 503s (never a 500), the documented fallback, recovery."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from identity.extensions import services
from identity.models.base import db
from tests import backends
from tests.conftest import access_token, bearer, service_error
from tests.faults import TcpProxy
from tests.partners_helpers import make_client, token

pytestmark = pytest.mark.skipif(
    backends.BACKEND != "postgres", reason="needs the PostgreSQL + Redis run (make test runs it)"
)


NEW_CLIENT = {"name": "acme", "scope": "profile:read"}
NEW_APP = {"name": "n", "vendor": "novu", "key": "novu-secret"}


@pytest.fixture
def pg_proxy() -> Iterator[TcpProxy]:
    proxy = TcpProxy("127.0.0.1", 5432)
    yield proxy
    proxy.close()


@pytest.fixture
def redis_proxy() -> Iterator[TcpProxy]:
    proxy = TcpProxy(*backends.redis_address())
    yield proxy
    proxy.close()


def test_database_down_gives_503_then_recovers(
    make_app: Any, database_url: str, pg_proxy: TcpProxy
) -> None:
    """PostgreSQL unreachable: /readyz 503, endpoints a clean 503; back to 200 when it returns."""
    make_app()  # the fixture's first app prepares the database (keys, clean tables)
    proxied = database_url.replace("127.0.0.1:5432", f"127.0.0.1:{pg_proxy.port}")
    app = make_app(database_url=proxied)
    client = app.test_client()
    admin = access_token(app, "admin")
    assert client.get("/readyz").status_code == 200

    pg_proxy.cut()
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"]["database"] == "unavailable"
    created = client.post("/admin/clients", headers=bearer(admin), json=NEW_CLIENT)
    assert created.status_code == 503
    assert service_error(created)["messageId"] == "UPSTREAM_UNAVAILABLE"
    assert created.headers["Retry-After"]
    # The key ring cannot be re-read (cache 0 s in tests): the one held keeps serving.
    assert client.get("/.well-known/jwks.json").status_code == 200

    pg_proxy.restore()
    assert client.get("/readyz").status_code == 200
    assert client.get("/.well-known/jwks.json").status_code == 200
    with app.app_context():
        db.engine.dispose()


def test_redis_down_degrades_to_database_and_says_so(make_app: Any, redis_proxy: TcpProxy) -> None:
    """Redis unreachable: revocations keep working through the database; /readyz and /metrics
    say so; Redis coming back ends the degraded mode."""
    app = make_app(redis_url=backends.redis_url_via(redis_proxy.port))
    client = app.test_client()
    assert client.get("/readyz").get_json()["checks"]["redis"] == "ok"
    expires = datetime.now(UTC) + timedelta(minutes=5)
    with app.app_context():
        services().shared.revoke("jti-before", expires)

    redis_proxy.cut()
    with app.app_context():
        shared = services().shared
        assert shared.is_revoked("jti-before")  # written to both levels
        shared.revoke("jti-during", expires)
        assert shared.is_revoked("jti-during")
        assert shared.add_once("replay", "sig-1", 60) is True
        assert shared.add_once("replay", "sig-1", 60) is False
        assert shared.backend == "database (redis down)"
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"]["redis"].startswith("unavailable (falling back")
    assert ready.get_json()["checks"]["database"] == "ok"
    assert b"identity_shared_state_degraded 1.0" in client.get("/metrics").data

    redis_proxy.restore()
    assert client.get("/readyz").status_code == 200
    with app.app_context():
        assert services().shared.backend == "redis"
        assert services().shared.is_revoked("jti-during")  # the database level still has it
    assert b"identity_shared_state_degraded 0.0" in client.get("/metrics").data


def _timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.monotonic()
    result = call()
    return time.monotonic() - started, result


def test_silent_database_is_a_prompt_503_and_signing_goes_on(
    make_app: Any, database_url: str, pg_proxy: TcpProxy
) -> None:
    """PostgreSQL's path goes silent (connections open, nothing answers): every endpoint that
    needs the database answers 503 with Retry-After within IDENTITY_DATABASE_TIMEOUT + 2 s,
    also with requests in parallel; a token endpoint whose client is cached keeps signing."""
    make_app()
    proxied = database_url.replace("127.0.0.1:5432", f"127.0.0.1:{pg_proxy.port}")
    app = make_app(database_url=proxied, client_cache_seconds=60, keyring_cache_seconds=1)
    admin = bearer(access_token(app, "admin"))
    partner = make_client(app, "profile:read")
    client = app.test_client()
    assert client.post("/admin/clients", headers=admin, json=NEW_CLIENT).status_code == 201
    assert token(client, partner).status_code == 200  # the client is cached from now on
    calls: list[Callable[[], Any]] = [
        lambda: app.test_client().post("/admin/clients", headers=admin, json=NEW_CLIENT),
        lambda: app.test_client().get("/admin/clients", headers=admin),
        lambda: app.test_client().post("/admin/inbox-apps", headers=admin, json=NEW_APP),
    ] * 3

    pg_proxy.silence()
    time.sleep(1.1)  # the key ring is due for a re-read: it must not block signing
    pool = ThreadPoolExecutor(len(calls) + 4)
    try:  # a hung request fails the test (after 30 s) instead of hanging it
        signed = [pool.submit(_timed, lambda: token(app.test_client(), partner)) for _ in "1234"]
        futures = [pool.submit(_timed, call) for call in calls]
        results = [f.result(timeout=30) for f in futures]
        signing = [f.result(timeout=30) for f in signed]
    finally:
        pool.shutdown(wait=False)
    bound = 3 + 2 + 1.5  # IDENTITY_DATABASE_TIMEOUT + connect timeout + slack
    for elapsed, response in results:
        assert response.status_code == 503, response.get_json()
        assert service_error(response)["messageId"] == "UPSTREAM_UNAVAILABLE"
        assert int(response.headers["Retry-After"]) > 0
        assert elapsed < bound, elapsed
    for elapsed, response in signing:
        assert response.status_code == 200, response.get_json()
        assert elapsed < bound, elapsed
    elapsed, ready = _timed(lambda: client.get("/readyz"))
    assert ready.status_code == 503 and elapsed < bound

    pg_proxy.restore()
    assert client.post("/admin/clients", headers=admin, json=NEW_CLIENT).status_code == 201
    with app.app_context():
        db.engine.dispose()


def test_a_slow_statement_is_cancelled_by_the_server(make_app: Any) -> None:
    """A statement that runs too long (or waits on a lock) is cancelled within
    IDENTITY_DATABASE_TIMEOUT, and the connection stays usable."""
    app = make_app(database_timeout=1)
    with app.app_context():
        elapsed, _ = _timed(lambda: pytest.raises(OperationalError, _sleep_in_database, 5))
        assert elapsed < 1.5
        db.session.rollback()
        assert db.session.execute(text("SELECT 1")).scalar() == 1


def _sleep_in_database(seconds: int) -> None:
    db.session.execute(text("SELECT pg_sleep(:s)"), {"s": seconds})
