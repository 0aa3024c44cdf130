"""The framework-free cores through their one WSGI adapter (``identity.http.cores``)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError

from identity.extensions import services
from tests.conftest import access_token, api_key, bearer, service_error
from tests.partners_helpers import basic, make_client

CORE_PATHS = {
    "/access_token": "POST",
    "/oauth/token": "POST",
    "/introspect": "POST",
    "/revoke": "POST",
    "/inbox/token": "POST",
    "/v1/inbox/tokens": "POST",
    "/healthz": "GET",
    "/.well-known/jwks.json": "GET",
    "/upstream/connections/sms/authorization": "GET",
}


def test_a_token_answer_is_never_cached_and_names_its_request(
    app: Flask, client: FlaskClient
) -> None:
    """RFC 6749 §5.1 headers, the caller's X-Request-Id echoed, compact JSON."""
    partner = make_client(app)
    response = client.post(
        "/access_token",
        data={"grant_type": "client_credentials"},
        headers={**basic(partner.client_id, partner.client_secret), "X-Request-Id": "abc-123"},
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    assert response.headers["X-Request-Id"] == "abc-123"
    assert response.headers["Content-Type"] == "application/json"
    assert response.get_data().startswith(b'{"access_token":"')


@pytest.mark.parametrize(("path", "method"), sorted(CORE_PATHS.items()))
def test_every_core_answers_a_wrong_method_405_with_allow(
    client: FlaskClient, path: str, method: str
) -> None:
    """RFC 9110 §15.5.6: a 405 carries Allow, in the path's documented error shape."""
    response = client.put(path)
    assert response.status_code == 405
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert method in allowed and "OPTIONS" in allowed
    body = response.get_json()
    if path in ("/access_token", "/oauth/token", "/introspect", "/revoke"):
        assert body["error"] == "invalid_request"
    else:
        assert body["requestError"]["serviceException"]["messageId"] == "BAD_REQUEST"
    assert response.headers["X-Request-Id"]


def test_options_lists_the_methods(client: FlaskClient) -> None:
    response = client.options("/upstream/connections/sms/authorization")
    assert response.status_code == 200
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_x_api_key_beside_another_authorization_scheme_is_used(app: Flask) -> None:
    """The API key in X-API-Key counts even when Authorization carries a Bearer token."""
    key = api_key(app, "inbox:issue")
    response = app.test_client().post(
        "/v1/inbox/tokens",
        json={"identifier": "u1"},
        headers={"X-API-Key": key, "Authorization": "Bearer not-an-api-key"},
    )
    assert response.status_code == 200, response.get_json()


def test_core_answers_are_counted_under_their_rule(app: Flask, client: FlaskClient) -> None:
    client.get("/upstream/connections/nope/authorization", headers=bearer("x"))
    metrics = client.get("/metrics").get_data(as_text=True)
    rule = "/upstream/connections/<name>/authorization"
    assert f'endpoint="{rule}",method="GET",status="401"' in metrics


def test_a_lost_database_is_a_503_on_a_core(app: Flask, monkeypatch: Any) -> None:
    """The same answer as Flask's views give: 503 with Retry-After, never a 500."""
    token = access_token(app, "upstream:read")

    def down(name: str) -> Any:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(services(app).upstream, "authorization", down)
    response = app.test_client().get(
        "/upstream/connections/sms/authorization", headers=bearer(token)
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert service_error(response)["messageId"] == "UPSTREAM_UNAVAILABLE"


def test_an_unexpected_error_is_a_500_without_a_traceback(
    app: Flask, monkeypatch: Any, caplog: Any
) -> None:
    partner = make_client(app)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(services(app).tokens, "issue_access_token", broken)
    response = app.test_client().post(
        "/access_token",
        data={"grant_type": "client_credentials"},
        headers=basic(partner.client_id, partner.client_secret),
    )
    assert response.status_code == 500
    assert response.get_json() == {"error": "server_error", "error_description": "Internal error"}
    assert "Traceback" not in response.get_data(as_text=True)
    assert any(record.exc_info for record in caplog.records)


def test_the_cores_are_in_the_openapi_document(client: FlaskClient) -> None:
    paths = client.get("/openapi.json").get_json()["paths"]
    for path, method in CORE_PATHS.items():
        documented = path.replace("/sms/", "/{name}/")
        assert method.lower() in paths[documented], path
