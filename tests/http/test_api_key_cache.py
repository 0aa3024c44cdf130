"""API keys are cached in-process; a revocation on this instance still applies at once."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from identity.errors import Unauthorized
from identity.extensions import services
from identity.models import ApiKey
from identity.models.base import db


def test_revocation_here_applies_at_once_elsewhere_after_the_cache_time(make_app: Any) -> None:
    here, there = make_app(client_cache_seconds=60), make_app(client_cache_seconds=60)
    with here.app_context():
        created = services().api_keys.create("cached", "inbox:issue")
        assert services().api_keys.authenticate(created.key).id == created.id
    with there.app_context():
        assert services().api_keys.authenticate(created.key).id == created.id
    with here.app_context():
        services().api_keys.revoke(created.id)
        with pytest.raises(Unauthorized):
            services().api_keys.authenticate(created.key)
    with there.app_context():  # the other instance trusts its copy for the cache time
        assert services().api_keys.authenticate(created.key).id == created.id
        services().api_keys._snapshots.clear()  # the cache time has passed: entries expired
        with pytest.raises(Unauthorized):
            services().api_keys.authenticate(created.key)


def test_cached_key_is_not_a_database_read(make_app: Any) -> None:
    app = make_app(client_cache_seconds=60)
    with app.app_context():
        created = services().api_keys.create("cached", "admin")
        service = services().api_keys
        service.authenticate(created.key)
        db.session.execute(update(ApiKey).values(scope="changed"))
        db.session.commit()
        assert service.authenticate(created.key).scopes == frozenset({"admin"})
