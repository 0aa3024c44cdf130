"""Hostile requests against every operation of ``/openapi.json`` (Hypothesis, issue 12).

Deep nesting, lone surrogates, U+0000, duplicate members, NaN, oversized bodies (declared and
chunked), wrong content types and hostile path identifiers. Every answer: never a 5xx (503
only as the documented ``UPSTREAM_UNAVAILABLE``), one of the documented error shapes, an
``X-Request-Id``; and a refused request changed nothing (no row, no logout, no token, no
upstream call). ``FUZZ_EXAMPLES`` sets the examples per property (``make fuzz``: more).
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from identity.extensions import services
from tests.hostile.conftest import HOSTILE, OAUTH_PATHS, World

LIMIT = 65536
FIELDS = (
    "username", "password", "identifier", "app", "name", "scope", "grant_type", "client_id",
    "client_secret", "token", "customer_id", "customer_token", "email", "session",
    "promote_after", "lifetime", "base_url", "method", "secret",
)  # fmt: skip
PARAM = re.compile(r"\{[^}]+\}")
BROWSER_PAGES = frozenset({"/exchange/configure", "/exchange/connect", "/exchange/callback"})
TOKEN_FIELDS = {"access_token", "token", "client_secret", "key", "authorization"}


# --- strategies -----------------------------------------------------------------------------
def _object(members: list[tuple[str, str]]) -> str:
    """A JSON object's text from (name, raw JSON value) pairs, repeats kept."""
    return "{" + ", ".join(f"{_name(k)}: {v}" for k, v in members) + "}"


def _name(name: str) -> str:
    """A member name as JSON text; one already quoted (with escapes) is kept as is."""
    return name if name.startswith('"') else json.dumps(name)


plain_values = st.one_of(
    st.text(max_size=20).map(json.dumps), st.integers().map(str), st.just("null")
)
members = st.lists(st.tuples(st.sampled_from(FIELDS), plain_values), max_size=4)


@st.composite
def deep(draw: Any) -> str:
    depth = draw(st.integers(33, 4000))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a": ', "}")]))
    inner = opener * depth + "1" + closer * depth
    return _object([*draw(members), (draw(st.sampled_from(FIELDS)), inner)])


@st.composite
def bad_text(draw: Any) -> str:
    """A lone surrogate or U+0000 in a member's value or name, as JSON escapes."""
    code = draw(st.one_of(st.integers(0xD800, 0xDFFF), st.just(0)))
    escape = f"\\u{code:04x}"
    field = draw(st.sampled_from(FIELDS))
    pair = (field, f'"x{escape}"') if draw(st.booleans()) else (f'"{field}{escape}"', '"v"')
    listed = [*draw(members)]
    listed.insert(draw(st.integers(0, len(listed))), pair)
    return _object(listed)


@st.composite
def duplicated(draw: Any) -> str:
    field = draw(st.sampled_from(FIELDS))
    first, second = draw(plain_values), draw(plain_values)
    listed = [*draw(members), (field, first)]
    listed.insert(draw(st.integers(0, len(listed))), (field, second))
    return _object(listed)


not_json_constants = st.sampled_from(["NaN", "Infinity", "-Infinity"]).map(
    lambda c: _object([("username", c)])
)
hostile_json = st.one_of(deep(), bad_text(), duplicated(), not_json_constants)


# --- checks ---------------------------------------------------------------------------------
def _concrete(path: str, segment: str = "hostile-x") -> str:
    return PARAM.sub(lambda _: segment, path)


def assert_documented(response: Any, path: str) -> None:
    """No 5xx but the documented 503; the path's error shape; a request id."""
    assert response.headers.get("X-Request-Id"), response.headers
    status = response.status_code
    body = response.get_json(silent=True)
    if status < 400:
        return
    if path in BROWSER_PAGES and response.mimetype == "text/html":
        assert status < 500
        return  # the Exchange pages answer the browser with an HTML page
    assert isinstance(body, dict), (status, response.get_data()[:200])
    if path in OAUTH_PATHS:
        assert set(body) <= {"error", "error_description"} and "error" in body, body
        assert status < 500, body
        return
    assert set(body) == {"requestError"}, body
    error = body["requestError"]["serviceException"]
    assert isinstance(error["messageId"], str) and isinstance(error["text"], str)
    assert status < 500 or (status == 503 and error["messageId"] == "UPSTREAM_UNAVAILABLE"), body
    if status in (429, 503):
        assert int(response.headers["Retry-After"]) >= 1


def assert_nothing_acted(world: World, before: dict[str, int], response: Any) -> None:
    """Refused: no row added or removed, no token handed out, no upstream call, no logout."""
    assert response.status_code >= 400, (response.status_code, response.get_data()[:200])
    assert world.counts() == before
    body = response.get_json(silent=True) or {}
    assert not (TOKEN_FIELDS & set(body)), body
    assert sum(world.upstream.calls.values()) == 0
    token = world.customer["Authorization"].split(" ", 1)[1]
    with world.app.app_context():
        services().customer_sessions.authenticate(token)  # raises once logged out
        services().tokens.verify_access_token(world.staff["Authorization"].split()[1])


def _body_operations(world: World) -> list[tuple[str, str]]:
    return [(m, p) for m, p in world.operations if m in ("POST", "PUT", "PATCH", "DELETE")]


# --- properties -----------------------------------------------------------------------------
def test_hostile_json_is_refused_and_nothing_happens(world: World) -> None:
    """Every body operation refuses deep, surrogate, NUL, duplicate and NaN JSON (4xx)."""

    @HOSTILE
    @given(operation=st.sampled_from(_body_operations(world)), body=hostile_json)
    def run(operation: tuple[str, str], body: str) -> None:
        method, path = operation
        before = world.counts()
        headers = {**world.credentials(path), "Content-Type": "application/json"}
        response = world.http.open(_concrete(path), method=method, data=body, headers=headers)
        assert_documented(response, path)
        assert_nothing_acted(world, before, response)

    run()


def test_oversized_bodies_are_413_before_anything_acts(world: World) -> None:
    """Declared or chunked, over 64 KiB is 413 in the path's shape, on every operation."""

    @HOSTILE
    @given(
        operation=st.sampled_from(world.operations),
        extra=st.integers(1, 50_000),
        chunked=st.booleans(),
        content_type=st.sampled_from(
            ["application/json", "application/x-www-form-urlencoded", "text/plain"]
        ),
    )
    def run(operation: tuple[str, str], extra: int, chunked: bool, content_type: str) -> None:
        method, path = operation
        before = world.counts()
        body = b'{"pad": "' + b"a" * (LIMIT + extra) + b'"}'
        headers = {**world.credentials(path), "Content-Type": content_type}
        options: dict[str, Any] = {"method": method, "headers": headers}
        if chunked:
            headers["Transfer-Encoding"] = "chunked"
            options |= {
                "input_stream": io.BytesIO(body),
                "environ_overrides": {"wsgi.input_terminated": True},
            }
        else:
            options["data"] = body
        response = world.http.open(_concrete(path), **options)
        assert response.status_code == 413, response.get_data()[:200]
        assert_documented(response, path)
        if path not in OAUTH_PATHS:
            assert response.get_json()["requestError"]["serviceException"]["messageId"] == (
                "PAYLOAD_TOO_LARGE"
            )
        assert_nothing_acted(world, before, response)

    run()


def test_wrong_content_types_get_documented_answers(world: World) -> None:
    """A body in the wrong media type is a documented answer, never a 5xx."""

    @HOSTILE
    @given(
        operation=st.sampled_from(_body_operations(world)),
        content_type=st.sampled_from(
            [
                "text/plain",
                "application/xml",
                "multipart/form-data; boundary=x",
                "application/json; charset=utf-16",
                "application/octet-stream",
                "application/x-www-form-urlencoded",
                "",
            ]
        ),
        body=st.one_of(
            st.binary(max_size=200),
            st.dictionaries(st.sampled_from(FIELDS), st.text(max_size=10)).map(
                lambda d: json.dumps(d).encode()
            ),
        ),
    )
    def run(operation: tuple[str, str], content_type: str, body: bytes) -> None:
        method, path = operation
        headers = {**world.credentials(path), "Content-Type": content_type}
        response = world.http.open(_concrete(path), method=method, data=body, headers=headers)
        assert_documented(response, path)

    run()


def test_hostile_path_identifiers_never_reach_storage(world: World) -> None:
    """NUL, control characters, invalid UTF-8, overlong and dash-led identifiers in a path."""
    with_ids = [(m, p) for m, p in world.operations if PARAM.search(p)]

    @HOSTILE
    @given(
        operation=st.sampled_from(with_ids),
        segment=st.one_of(
            st.sampled_from(["%00", "a%00b", "%01", "%7F", "%ED%B3%BF", "%FF%FE", "-x", "x" * 300]),
            st.text(min_size=1, max_size=30).map(lambda t: t.replace("/", "_")),
        ),
    )
    def run(operation: tuple[str, str], segment: str) -> None:
        method, path = operation
        before = world.counts()
        headers = {**world.credentials(path), "Content-Type": "application/json"}
        response = world.http.open(
            _concrete(path, segment), method=method, headers=headers, data=b"{}"
        )
        assert_documented(response, path)
        if response.status_code >= 400:
            assert_nothing_acted(world, before, response)

    run()
