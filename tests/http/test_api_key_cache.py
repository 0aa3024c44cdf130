"""API keys are cached in-process; a revocation on this instance still applies at once."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from identity.errors import Unauthorized
from identity.extensions import db, get_service
from identity.models import ApiKey


def test_revocation_here_applies_at_once_elsewhere_after_the_cache_time(make_app: Any) -> None:
    here, there = make_app(client_cache_seconds=60), make_app(client_cache_seconds=60)
    with here.app_context():
        created = get_service("api_keys").create("cached", "inbox:issue")
        assert get_service("api_keys").authenticate(created.key).id == created.id
    with there.app_context():
        assert get_service("api_keys").authenticate(created.key).id == created.id
    with here.app_context():
        get_service("api_keys").revoke(created.id)
        with pytest.raises(Unauthorized):
            get_service("api_keys").authenticate(created.key)
    with there.app_context():  # the other instance trusts its copy for the cache time
        assert get_service("api_keys").authenticate(created.key).id == created.id
        get_service("api_keys")._cache_seconds = 0  # the cache time has passed
        with pytest.raises(Unauthorized):
            get_service("api_keys").authenticate(created.key)


def test_cached_key_is_not_a_database_read(make_app: Any) -> None:
    app = make_app(client_cache_seconds=60)
    with app.app_context():
        created = get_service("api_keys").create("cached", "admin")
        service = get_service("api_keys")
        service.authenticate(created.key)
        db.session.execute(update(ApiKey).values(scope="changed"))
        db.session.commit()
        assert service.authenticate(created.key).scopes == frozenset({"admin"})
