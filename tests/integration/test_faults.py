"""Dependencies going away: clean 503s (never a 500), the documented fallback, recovery."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from identity.extensions import services
from identity.models.base import db
from tests import backends
from tests.conftest import service_error
from tests.faults import TcpProxy

pytestmark = pytest.mark.skipif(
    backends.BACKEND != "postgres", reason="needs the PostgreSQL + Redis run (make test runs it)"
)


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
    assert client.get("/readyz").status_code == 200

    pg_proxy.cut()
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"]["database"] == "unavailable"
    jwks = client.get("/.well-known/jwks.json")  # re-reads the ring (cache 0 s in tests)
    assert jwks.status_code == 503
    assert service_error(jwks)["messageId"] == "UPSTREAM_UNAVAILABLE"
    assert jwks.headers["Retry-After"]

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
