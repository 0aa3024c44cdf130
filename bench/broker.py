"""Cached ``GET /upstream/connections/<name>/authorization``, /healthz and JWKS under granian
against a bare Flask app under the same server (interleaved rounds), and upstream calls per
10,000 requests against ``identity mock-infobip`` in its own process."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx

from bench.harness import (
    BIN,
    DURATION,
    ROOT,
    ROUNDS,
    Row,
    Server,
    Target,
    WrkResult,
    free_port,
    interleaved,
    serve,
    wrk,
)

SHORT_LIFETIME = 4  # seconds: several refreshes within one wrk run
CACHED_TARGET = 1.0  # of bare Flask under the same server
HEALTHZ_TARGET = 0.8
JWKS_TARGET = 0.8


@contextmanager
def mock_upstream() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "identity"), "mock-infobip", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{base}/_mock/calls", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _logins(base: str) -> int:
    calls = httpx.get(f"{base}/_mock/calls", timeout=5).json()
    return int(calls.get("POST /auth/1/session", 0))


def _access_token(server: Server) -> str:
    """Mint an ``upstream:read`` access token inside the served instance's configuration."""
    code = (
        "from identity.app import create_app\n"
        "from identity.extensions import services\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    tokens = services().tokens\n"
        "    print(tokens.issue_access_token('bench', 'upstream:read', 3600).token)\n"
    )
    out = subprocess.run(
        [str(BIN / "python"), "-c", code],
        cwd=ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return out.stdout.strip().splitlines()[-1]


def _add(server: Server, name: str, upstream: str, lifetime: int | None) -> None:
    args = ["upstream", "add", "--name", name, "--base-url", upstream, "--method", "ibsso"]
    args += ["--username", "user", "--secret-stdin"]
    if lifetime:
        args += ["--lifetime", str(lifetime)]
    server.cli(*args, stdin="pass\n")


def _get(url: str, headers: dict[str, str] | None = None) -> Callable[[int, int], WrkResult]:
    def load(warmup: int, seconds: int) -> WrkResult:
        return wrk(url, headers=headers, duration=seconds, warmup=warmup)

    return load


def run(ctx: dict[str, float]) -> list[Row]:
    with (
        mock_upstream() as upstream,
        serve() as server,
        serve(app="bench.bare:app") as bare_server,
    ):
        _add(server, "sms", upstream, None)
        _add(server, "short", upstream, SHORT_LIFETIME)
        headers = {"Authorization": f"Bearer {_access_token(server)}"}
        url = f"{server.base}/upstream/connections/%s/authorization"
        before = _logins(upstream)
        httpx.get(url % "sms", headers=headers, timeout=10).raise_for_status()  # the one login
        results = interleaved(
            {
                "bare": _get(f"{bare_server.base}/bare"),
                "healthz": _get(f"{server.base}/healthz"),
                "cached": _get(url % "sms", headers),
                "jwks": _get(f"{server.base}/.well-known/jwks.json"),
            }
        )
        long_calls = _logins(upstream) - before
        before = _logins(upstream)
        short = wrk(url % "short", headers=headers, warmup=0)  # counts calls over DURATION
        short_calls = _logins(upstream) - before
    bare, floor, cached, jwks = (results[k] for k in ("bare", "healthz", "cached", "jwks"))
    rows = [
        Row(
            "GET /bare (bare Flask, granian 2 workers)",
            bare.rps,
            "req/s",
            bare.p50_ms,
            bare.p99_ms,
            note="yardstick of /healthz, the cached broker read and JWKS",
        )
    ]
    of_bare, cached_of_bare = floor.rps / bare.rps, cached.rps / bare.rps
    jwks_of_bare = jwks.rps / bare.rps
    # every round of the cached read, approximately (median req/s x seconds x rounds)
    requests = cached.rps * max(1, DURATION // 2) * ROUNDS
    short_requests = short.rps * DURATION
    # 1 + one refresh per 80 % of the lifetime (the broker refreshes ahead of expiry)
    expected = 1 + int(DURATION / (0.8 * SHORT_LIFETIME))
    rows += [
        Row(
            "GET /healthz, same identity server (no auth)",
            floor.rps,
            "req/s",
            floor.p50_ms,
            floor.p99_ms,
            ratio=of_bare,
            ceiling="bare Flask",
            targets=[Target(f">= {HEALTHZ_TARGET} of bare Flask", of_bare, HEALTHZ_TARGET)],
            note="the app's own floor: request id, access log, metrics",
        ),
        Row(
            "GET /upstream/.../authorization, cached (granian 2 workers)",
            cached.rps,
            "req/s",
            cached.p50_ms,
            cached.p99_ms,
            ratio=cached_of_bare,
            ceiling="bare Flask",
            targets=[Target(f">= {CACHED_TARGET} of bare Flask", cached_of_bare, CACHED_TARGET)],
            note=f"socket errors {cached.errors}, non-2xx {cached.non_2xx}; "
            "includes the access-token check; "
            f"{cached.rps / floor.rps:.2f} of /healthz",
        ),
        Row(
            "upstream calls per 10,000 reads (token lifetime 3600 s)",
            long_calls * 10_000 / max(1.0, requests),
            "calls",
            targets=[Target("<= 1 call per lifetime", long_calls, 1, at_most=True)],
            note=f"{long_calls} call(s) in about {requests:,.0f} reads over {ROUNDS} rounds "
            "(including the first read's login)",
        ),
        Row(
            f"upstream calls per 10,000 reads (token lifetime {SHORT_LIFETIME} s)",
            short_calls * 10_000 / max(1.0, short_requests),
            "calls",
            targets=[Target(f"<= {expected} calls in {DURATION} s", short_calls, expected, True)],
            note=f"{short_calls} call(s) in {short_requests:,.0f} reads; "
            f"socket errors {short.errors}, non-2xx {short.non_2xx}",
        ),
        Row(
            "GET /.well-known/jwks.json (granian 2 workers)",
            jwks.rps,
            "req/s",
            jwks.p50_ms,
            jwks.p99_ms,
            ratio=jwks_of_bare,
            ceiling="bare Flask",
            targets=[Target(f">= {JWKS_TARGET} of bare Flask", jwks_of_bare, JWKS_TARGET)],
            note=f"errors {jwks.errors + jwks.non_2xx}",
        ),
    ]
    return rows
