"""Every error the app can produce has the documented shape (docs/limits.md); never a traceback."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from identity import errors
from tests.conftest import service_error


@pytest.fixture
def app(make_app: Any) -> Flask:
    app = make_app()

    @app.post("/_test/raise/<name>")
    def raise_error(name: str) -> Any:
        if name == "boom":
            raise RuntimeError("secret-internal-detail")
        if name == "json":
            from flask import request

            return {"got": request.get_json()}
        raise {
            "bad": errors.BadRequest("Bad thing", {"field": ["is wrong"]}),
            "unauth": errors.Unauthorized("Invalid login details"),
            "forbidden": errors.Forbidden(),
            "conflict": errors.Conflict(details={"reconnect_url": "http://x"}),
            "throttled": errors.TooManyRequests(retry_after=7),
            "upstream_unauth": errors.UpstreamUnauthorized(),
            "upstream_down": errors.UpstreamUnavailable(retry_after=3),
            "internal": errors.InternalError(),
        }[name]

    return app


@pytest.mark.parametrize(
    ("name", "status", "message_id", "headers"),
    [
        ("bad", 400, "BAD_REQUEST", {}),
        ("unauth", 401, "UNAUTHORIZED", {}),
        ("forbidden", 403, "FORBIDDEN", {}),
        ("conflict", 409, "CONFLICT", {}),
        ("throttled", 429, "TOO_MANY_REQUESTS", {"Retry-After": "7"}),
        ("upstream_unauth", 502, "UPSTREAM_UNAUTHORIZED", {}),
        ("upstream_down", 503, "UPSTREAM_UNAVAILABLE", {"Retry-After": "3"}),
        ("internal", 500, "INTERNAL_ERROR", {}),
    ],
)
def test_service_errors_render_infobip_shape(
    client: FlaskClient, name: str, status: int, message_id: str, headers: dict[str, str]
) -> None:
    response = client.post(f"/_test/raise/{name}")
    assert response.status_code == status
    assert response.content_type == "application/json"
    assert service_error(response)["messageId"] == message_id
    for header, value in headers.items():
        assert response.headers[header] == value


def test_bad_request_carries_validation_errors(client: FlaskClient) -> None:
    body = service_error(client.post("/_test/raise/bad"))
    assert body == {
        "messageId": "BAD_REQUEST",
        "text": "Bad thing",
        "validationErrors": {"field": ["is wrong"]},
    }


def test_unexpected_exception_is_500_without_traceback(client: FlaskClient, caplog: Any) -> None:
    response = client.post("/_test/raise/boom", headers={"X-Request-Id": "req-123"})
    assert response.status_code == 500
    assert service_error(response) == {"messageId": "INTERNAL_ERROR", "text": "Internal error"}
    assert b"secret-internal-detail" not in response.data and b"Traceback" not in response.data
    assert response.headers["X-Request-Id"] == "req-123"
    logged = [r for r in caplog.records if r.getMessage() == "unhandled exception"]
    assert logged and logged[0].fields["request_id"] == "req-123"  # type: ignore[attr-defined]


def test_404_and_405(client: FlaskClient) -> None:
    missing = client.get("/no/such/path")
    assert missing.status_code == 404
    assert service_error(missing)["messageId"] == "NOT_FOUND"
    wrong = client.delete("/healthz")
    assert wrong.status_code == 405
    assert service_error(wrong)["messageId"] == "BAD_REQUEST"
    assert "GET" in wrong.headers["Allow"]


def test_413_for_bodies_over_64_kib(client: FlaskClient) -> None:
    response = client.post(
        "/_test/raise/json", data=b"{" + b" " * 70000 + b"}", content_type="application/json"
    )
    assert response.status_code == 413
    assert service_error(response)["messageId"] == "PAYLOAD_TOO_LARGE"


def test_malformed_json_is_400(client: FlaskClient) -> None:
    response = client.post("/_test/raise/json", data=b"{nope", content_type="application/json")
    assert response.status_code == 400
    assert service_error(response)["messageId"] == "BAD_REQUEST"


def test_request_id_generated_or_echoed(client: FlaskClient) -> None:
    generated = client.get("/healthz").headers["X-Request-Id"]
    assert len(generated) == 32
    assert (
        client.get("/healthz", headers={"X-Request-Id": "abc-1"}).headers["X-Request-Id"] == "abc-1"
    )
    hostile = client.get("/healthz", headers={"X-Request-Id": "a\u0000b<script>"})
    assert hostile.headers["X-Request-Id"] != "a\u0000b<script>"
