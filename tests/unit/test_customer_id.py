"""Opaque customer IDs: unique, stable across restarts, keyed by the server secret, no PII."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from identity.crypto.customer_id import customer_id
from identity.extensions import services
from tests.customers_helpers import create_customer, login

SECRET = "s" * 32
ID_SHAPE = re.compile(r"^c1_[A-Za-z0-9_-]{43}$")  # version tag + 32 bytes base64url, no padding


def test_unique_across_1000_ids() -> None:
    """1,000 internal ids give 1,000 distinct, URL-safe, fixed-shape IDs."""
    ids = {customer_id(internal_id, SECRET) for internal_id in range(1, 1001)}
    assert len(ids) == 1000
    assert all(ID_SHAPE.match(value) for value in ids)


def test_unique_across_accounts_created_by_the_service(app: Flask) -> None:
    """100 accounts created end to end get distinct stored IDs equal to the derivation."""
    with app.app_context():
        customers = services().customers
        created = [customers.create(f"user{n}", "pw") for n in range(100)]
        assert len({c.customer_id for c in created}) == 100
        assert all(c.customer_id == customers.customer_id_for(c.id) for c in created)


@given(st.integers(min_value=1, max_value=2**63 - 1))
def test_id_has_no_trace_of_its_input(internal_id: int) -> None:
    """The ID is a keyed MAC: fixed shape, deterministic, and changed by the secret."""
    value = customer_id(internal_id, SECRET)
    assert ID_SHAPE.match(value)
    assert customer_id(internal_id, SECRET) == value
    assert customer_id(internal_id, SECRET + "x") != value


def test_stable_across_restart_and_logins(make_app: Any, app: Flask) -> None:
    """A second app with the same secret (a restart) gives the same ID at every login."""
    created = create_customer(app, "alice")
    restarted = make_app()
    with restarted.app_context():
        customers = services().customers
        assert customers.customer_id_for(created["id"]) == created["customer_id"]
    for client in (app.test_client(), restarted.test_client()):
        assert login(client, "alice").get_json()["customer_id"] == created["customer_id"]


def test_different_secret_gives_different_ids(make_app: Any, app: Flask) -> None:
    """Another deployment secret derives other IDs from the same internal ids."""
    other = make_app(customer_id_secret="another-customer-id-secret-" + "q" * 32)
    with app.app_context(), other.app_context():
        ours = services(app).customers
        theirs = services(other).customers
        for internal_id in range(1, 51):
            assert ours.customer_id_for(internal_id) != theirs.customer_id_for(internal_id)


def test_version_tag_prefixes_the_id(make_app: Any) -> None:
    """IDENTITY_CUSTOMER_ID_VERSION is the prefix, so a rotated secret can live beside the old."""
    app = make_app(customer_id_version="c2")
    assert create_customer(app, "bob")["customer_id"].startswith("c2_")


def test_id_does_not_contain_the_username(app: Flask) -> None:
    """No PII: the username is not in the ID."""
    created = create_customer(app, "carol")
    assert "carol" not in created["customer_id"].lower()
