"""Hostile request input (issue 12): one JSON reader, one body gate, one identifier rule."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import access_token, api_key, bearer, service_error
from tests.customers_helpers import PASSWORD, create_customer, customer_token
from tests.partners_helpers import basic, make_client

DEEP = "[" * 5000 + "]" * 5000
JSON = {"Content-Type": "application/json"}
LIMIT = 65536


def _post(client: FlaskClient, path: str, raw: str | bytes, **headers: str) -> Any:
    return client.post(path, data=raw, headers={**JSON, **headers})


def _bad_request(response: Any) -> str:
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.headers["X-Request-Id"]
    error = service_error(response)
    assert error["messageId"] == "BAD_REQUEST"
    return str(error["text"])


@pytest.mark.parametrize(
    "raw",
    [
        DEEP,
        '{"username": ' + DEEP + ', "password": "x"}',
        '{"username": "alice", "password": "\\udcff"}',
        '{"username": "\\ud800", "password": "x"}',
        '{"username": "al\\u0000ice", "password": "x"}',
        '{"username": "mallory", "username": "alice", "password": "' + PASSWORD + '"}',
        '{"username": "alice", "password": NaN}',
    ],
    ids=["deep", "deep-member", "surrogate-password", "surrogate-user", "nul", "dup", "nan"],
)
def test_login_refuses_hostile_json(app: Flask, client: FlaskClient, raw: str) -> None:
    """Deep nesting, lone surrogates, NUL, duplicates and NaN are 400, and nobody logs in."""
    create_customer(app, "alice")
    _bad_request(_post(client, "/customer_authenticate", raw))


def test_duplicate_member_is_named(app: Flask, client: FlaskClient) -> None:
    """The duplicate's name is in the error text, so the caller can fix the body."""
    text = _bad_request(_post(client, "/customer_authenticate", '{"a": 1, "a": 2}'))
    assert "Duplicate member" in text and "'a'" in text


@pytest.mark.parametrize(
    "raw",
    [DEEP, '{"identifier": "a", "identifier": "b"}', '{"identifier": "\\udcff"}'],
    ids=["deep", "dup", "surrogate"],
)
def test_inbox_tokens_refuse_hostile_json(make_app: Any, raw: str) -> None:
    """``/v1/inbox/tokens`` (a core) reads JSON with the same strict reader."""
    app = make_app()
    key = api_key(app, "inbox:issue")
    _bad_request(_post(app.test_client(), "/v1/inbox/tokens", raw, Authorization=f"App {key}"))


def test_admin_patch_refuses_deep_json(app: Flask, client: FlaskClient) -> None:
    """Admin PATCH routes too."""
    user = create_customer(app, "bob")
    headers = bearer(access_token(app, "admin"))
    response = client.patch(
        f"/admin/users/{user['customer_id']}", data=DEEP, headers={**JSON, **headers}
    )
    _bad_request(response)


@pytest.mark.parametrize(
    "body",
    [
        '{"grant_type": "client_credentials", "client_id": "x", "client_secret": "\\udcff"}',
        '{"grant_type": "client_credentials", "grant_type": "client_credentials"}',
        '{"grant_type": "client_credentials", "client_id": "a\\u0000b", "client_secret": "s"}',
        DEEP,
    ],
    ids=["surrogate-secret", "dup", "nul-id", "deep"],
)
def test_oauth_json_refused_as_invalid_request(client: FlaskClient, body: str) -> None:
    """The OAuth reader follows the same rules, answered as RFC 6749 §5.2."""
    response = _post(client, "/access_token", body)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


def test_oauth_surrogate_in_form_secret(app: Flask, client: FlaskClient) -> None:
    """A percent-encoded surrogate half is not UTF-8: refused or replaced, never a 500."""
    client_ = make_client(app)
    response = client.post(
        "/access_token",
        data=f"grant_type=client_credentials&client_id={client_.client_id}&client_secret=%ED%B3%BF",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code in (400, 401), response.get_json()


def test_get_json_uses_the_strict_reader(app: Flask) -> None:
    """``request.get_json()`` (Flask's own JSON path) refuses duplicates too."""
    with app.test_request_context("/", data='{"a": 1, "a": 2}', headers=JSON):
        from flask import request

        with pytest.raises(Exception, match="Duplicate member"):
            request.get_json()


# --- the body gate ------------------------------------------------------------------------------
def _too_large(response: Any) -> None:
    assert response.status_code == 413, response.get_data(as_text=True)
    assert response.headers["X-Request-Id"]
    assert service_error(response)["messageId"] == "PAYLOAD_TOO_LARGE"


def _chunked(body: bytes) -> dict[str, Any]:
    """A streamed body without Content-Length, as a server hands a chunked request to WSGI."""
    return {
        "input_stream": io.BytesIO(body),
        "headers": {"Transfer-Encoding": "chunked", **JSON},
        "environ_overrides": {"wsgi.input_terminated": True},
    }


def test_declared_oversized_logout_does_not_log_out(app: Flask, client: FlaskClient) -> None:
    """A route that never reads its body still refuses a 70 KiB one, and the token still works."""
    create_customer(app, "carol")
    token = customer_token(client, "carol")
    response = client.post("/customer_logout", data=b"x" * 70 * 1024, headers=bearer(token))
    _too_large(response)
    assert client.post("/customer_authenticate/refresh", headers=bearer(token)).status_code == 200


def test_chunked_oversized_logout_does_not_log_out(app: Flask, client: FlaskClient) -> None:
    """The same body streamed (chunked) is measured, not truncated."""
    create_customer(app, "dave")
    token = customer_token(client, "dave")
    kwargs = _chunked(b"x" * (LIMIT + 1))
    kwargs["headers"].update(bearer(token))
    _too_large(client.post("/customer_logout", **kwargs))
    assert client.post("/customer_authenticate/refresh", headers=bearer(token)).status_code == 200


def test_chunked_oversized_token_request_is_refused(app: Flask, client: FlaskClient) -> None:
    """A chunked token request over the limit gets 413 in RFC 6749 §5.2 shape, no token."""
    client_ = make_client(app)
    body = b"grant_type=client_credentials&scope=profile:read&pad=" + b"a" * LIMIT
    response = client.post(
        "/access_token",
        input_stream=io.BytesIO(body),
        headers={
            "Transfer-Encoding": "chunked",
            "Content-Type": "application/x-www-form-urlencoded",
            **basic(client_.client_id, client_.client_secret),
        },
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert response.get_json()["error"] == "invalid_request"
    assert "access_token" not in response.get_json()


def test_chunked_body_within_limit_is_read_whole(app: Flask, client: FlaskClient) -> None:
    """A chunked JSON login under the limit is read in full (not an empty body)."""
    create_customer(app, "erin")
    body = json.dumps({"username": "erin", "password": PASSWORD}).encode()
    response = client.post("/customer_authenticate", **_chunked(body))
    assert response.status_code == 200, response.get_json()


def test_chunked_json_login_over_limit_is_413(app: Flask, client: FlaskClient) -> None:
    """Not "Invalid JSON body": the size is the problem."""
    body = json.dumps({"username": "erin", "password": "x" * (LIMIT + 10)}).encode()
    _too_large(client.post("/customer_authenticate", **_chunked(body)))


def test_oversized_inbox_token_issues_nothing(app: Flask, client: FlaskClient) -> None:
    """``/inbox/token`` never reads its body; an oversized one is still 413."""
    create_customer(app, "frank")
    token = customer_token(client, "frank")
    _too_large(client.post("/inbox/token", data=b"{}" + b" " * LIMIT, headers=bearer(token)))


# --- identifiers and values the database cannot hold --------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "/admin/clients/a%00b",
        "/admin/clients/a%00b/disable",
        "/admin/api-keys/a%00b/revoke",
        "/admin/users/a%00b",
        "/admin/upstream/connections/a%00b",
    ],
)
def test_nul_in_path_identifier_is_404(app: Flask, client: FlaskClient, path: str) -> None:
    """A control character in a path segment names nothing: 404, never a database error."""
    headers = bearer(access_token(app, "admin"))
    method = client.post if path.endswith(("disable", "revoke")) else client.get
    response = method(path, headers=headers)
    if response.status_code == 405:
        response = client.delete(path, headers=headers)
    assert response.status_code == 404, response.get_data(as_text=True)
    assert service_error(response)["messageId"] == "NOT_FOUND"


def test_nul_in_broker_connection_name_is_404(app: Flask, client: FlaskClient) -> None:
    """The broker read too."""
    headers = bearer(access_token(app, "upstream:read"))
    response = client.get("/upstream/connections/a%00b/authorization", headers=headers)
    assert response.status_code == 404


def test_nul_in_created_names_is_400(app: Flask, client: FlaskClient) -> None:
    """``\\u0000`` in a created client name or username is refused before storage."""
    headers = bearer(access_token(app, "admin"))
    response = client.post(
        "/admin/clients", data='{"name": "a\\u0000b"}', headers={**JSON, **headers}
    )
    _bad_request(response)
    response = client.post(
        "/admin/users",
        data='{"username": "a\\u0000b", "password": "pw-pw-pw-pw"}',
        headers={**JSON, **headers},
    )
    _bad_request(response)


def test_database_data_error_is_400(app: Flask, client: FlaskClient) -> None:
    """Should a value still reach the database and be refused there, the caller gets 400."""
    import sqlalchemy.exc

    @app.get("/_raise_data_error")
    def _raise() -> Any:
        raise sqlalchemy.exc.DataError("SELECT", {}, Exception("NUL"))

    response = client.get("/_raise_data_error")
    _bad_request(response)


@pytest.mark.parametrize("raw", ['{"a": 1, "a": 2}', '{"a": "\\u0000"}', DEEP])
def test_route_that_ignores_its_body_still_refuses_bad_json(
    app: Flask, client: FlaskClient, raw: str
) -> None:
    """A JSON body is read before any route runs: logout with a bad one is 400, not done."""
    create_customer(app, "gina")
    token = customer_token(client, "gina")
    _bad_request(_post(client, "/customer_logout", raw, **bearer(token)))
    assert client.post("/customer_authenticate/refresh", headers=bearer(token)).status_code == 200
