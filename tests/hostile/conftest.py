"""A world for hostile requests: an app with a customer, a client, keys and an upstream."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from sqlalchemy import func, select

from identity.devtools.mock_infobip import MockInfobip
from identity.extensions import services
from identity.models import (
    ApiKey,
    Customer,
    CustomerSession,
    OAuthClient,
    SigningKey,
    UpstreamConnection,
)
from identity.models.base import db
from identity.scopes import KNOWN_SCOPES
from tests.broker_helpers import add_connection
from tests.conftest import access_token, api_key, bearer
from tests.customers_helpers import create_customer, customer_token
from tests.partners_helpers import basic, make_client

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
HOSTILE = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
ALL_SCOPES = " ".join(KNOWN_SCOPES)
OAUTH_PATHS = frozenset({"/access_token", "/oauth/token", "/introspect", "/revoke"})
CUSTOMER_PATHS = frozenset({"/customer_logout", "/customer_authenticate/refresh", "/inbox/token"})
COUNTED = (OAuthClient, ApiKey, Customer, CustomerSession, SigningKey, UpstreamConnection)


@dataclass
class World:
    app: Flask
    http: FlaskClient
    upstream: MockInfobip
    customer: dict[str, str]
    partner: dict[str, str]
    staff: dict[str, str]
    operations: list[tuple[str, str]] = field(default_factory=list)  # (METHOD, /path/{x})

    def credentials(self, path: str) -> dict[str, str]:
        if path in OAUTH_PATHS:
            return dict(self.partner)
        if path in CUSTOMER_PATHS:
            return dict(self.customer)
        return dict(self.staff)

    def counts(self) -> dict[str, int]:
        with self.app.app_context():
            counted = {
                m.__tablename__: db.session.scalar(select(func.count()).select_from(m)) or 0
                for m in COUNTED
            }
            db.session.commit()
            return counted


@pytest.fixture
def world(make_app: Any) -> Iterator[World]:
    app = make_app(broker_backoff_base=60.0)
    http = app.test_client()
    with MockInfobip() as upstream:
        add_connection(app, upstream, method="oauth2")
        create_customer(app, "hostile-alice")
        partner = make_client(app, ALL_SCOPES)
        staff = {
            **bearer(access_token(app, ALL_SCOPES)),
            "X-API-Key": api_key(app, ALL_SCOPES),
        }
        found = http.get("/openapi.json").get_json()["paths"]
        operations = [
            (method.upper(), path)
            for path, item in found.items()
            for method in item
            if method in ("get", "post", "put", "patch", "delete")
        ]
        yield World(
            app=app,
            http=http,
            upstream=upstream,
            customer=bearer(customer_token(http, "hostile-alice")),
            partner=basic(partner.client_id, partner.client_secret),
            staff=staff,
            operations=operations,
        )
        with app.app_context():
            services().broker.close()
