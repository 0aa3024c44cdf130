"""The revocation cache never delays a logout, and delays /revoke by at most its window."""

from __future__ import annotations

from typing import Any

import pytest

from identity.extensions import services
from tests import backends
from tests.conftest import access_token, bearer


def test_logout_is_refused_at_once_by_an_instance_that_cached_the_token(make_app: Any) -> None:
    here, there = make_app(revocation_check_seconds=60), make_app(revocation_check_seconds=60)
    with here.app_context():
        services().customers.create("dana", "pw-dana-123")
    login = here.test_client().post(
        "/customer_authenticate", json={"username": "dana", "password": "pw-dana-123"}
    )
    token = login.get_json()["access_token"]
    assert there.test_client().post("/inbox/token", headers=bearer(token)).status_code == 200
    assert here.test_client().post("/customer_logout", headers=bearer(token)).status_code == 204
    assert there.test_client().post("/inbox/token", headers=bearer(token)).status_code == 401


def test_access_token_revocation_here_applies_at_once_elsewhere_after_the_window(
    make_app: Any,
) -> None:
    here, there = make_app(revocation_check_seconds=60), make_app(revocation_check_seconds=60)
    token = access_token(here, "upstream:read")
    with there.app_context():
        tokens = services().tokens
        claims = tokens.verify_access_token(token)  # "not revoked" is now trusted for 60 s
    with here.app_context():
        services().tokens.revoke(claims)
        assert _refused(lambda: services().tokens.verify_access_token(token))
    with there.app_context():
        if backends.BACKEND == "sqlite":  # the revocation stamp announced it: refused at once
            assert _refused(lambda: tokens.verify_access_token(token))
        else:
            assert tokens.verify_access_token(token)["jti"] == claims["jti"]  # in the window
        assert _refused(lambda: tokens.verify_access_token(token, fresh=True))  # introspection


def test_sqlite_customer_token_checks_cost_no_query_until_a_revocation(make_app: Any) -> None:
    if backends.BACKEND != "sqlite":
        pytest.skip("the revocation stamp is the SQLite mode's; Redis is asked every time")
    here, there = make_app(), make_app()  # two workers over one SQLite file
    with here.app_context():
        services().customers.create("erin", "pw-erin-123")
    login = here.test_client().post(
        "/customer_authenticate", json={"username": "erin", "password": "pw-erin-123"}
    )
    token = login.get_json()["access_token"]
    shared = services(there).shared
    asked: list[str] = []
    original = shared.is_revoked
    shared.is_revoked = lambda jti: asked.append(jti) or original(jti)
    services(there).tokens._revocations._lookup = shared.is_revoked
    for _ in range(5):
        assert there.test_client().post("/inbox/token", headers=bearer(token)).status_code == 200
    assert len(asked) == 1  # one database read, then the stamp said nothing was revoked
    assert here.test_client().post("/customer_logout", headers=bearer(token)).status_code == 204
    assert there.test_client().post("/inbox/token", headers=bearer(token)).status_code == 401
    assert len(asked) == 2


def _refused(call: Any) -> bool:
    from identity.errors import InvalidToken

    try:
        call()
    except InvalidToken:
        return True
    return False


def test_verification_cache_keeps_kinds_apart_and_hands_out_copies(app: Any) -> None:
    """A cached customer token still fails as an access token; callers get their own claims."""
    with app.app_context():
        tokens = services().tokens
        customer = tokens.issue_customer_token("c1_x", {"sid": "s1"}).token
        assert tokens.verify_customer_token(customer)["sub"] == "c1_x"  # now cached
        assert _refused(lambda: tokens.verify_access_token(customer))
        access = access_token(app, "a")
        first = tokens.verify_access_token(access)
        first["scope"] = "admin"
        assert tokens.verify_access_token(access)["scope"] == "a"
