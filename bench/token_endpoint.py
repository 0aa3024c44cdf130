"""The signing endpoints beside node-oidc-provider 9 and the sign-only floor, interleaved.

Our ``POST /access_token`` (``client_secret_basic``; ``private_key_jwt`` with a fresh
assertion per request: one RS256 verification more; and ES256 for an API that chose it),
``POST /v1/inbox/tokens`` and ``POST /inbox/token`` (one fresh signature per request) and
three yardsticks, all up at once and measured in turn, round after round
(``harness.interleaved``), with the same wrk settings:
- node-oidc-provider 9 (node:cluster, 2 workers, RS256 JWT access tokens, same client id,
  secret and request body as ours): the peer;
- a sign-only WSGI callable under the same granian settings: the server's floor, what is left
  once the app costs nothing but one signature;
- a bare Flask + PyJWT token endpoint under the same granian settings: for reading only.
Every endpoint answers one checked request (200, an RS256 JWT) before it is measured.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from pathlib import Path

import httpx

from bench.assertion_pool import PartnerKey, write_pool
from bench.customers import seed_inbox_callers, set_up_inbox
from bench.harness import (
    CONNECTIONS,
    Row,
    Server,
    Target,
    WrkResult,
    interleaved,
    serve,
    signing_row,
    wrk,
)
from bench.peer import check_token, node_oidc_provider

FORM = "application/x-www-form-urlencoded"
BODY = "grant_type=client_credentials&scope=profile:read"
ES256_AUDIENCE = "https://bench-es256.example"
ES256_BODY = f"grant_type=client_credentials&scope=bench:read&resource={ES256_AUDIENCE}"
PEER_WARMUP = 8  # seconds of discarded traffic before node-oidc-provider's first round
# Assertions signed per second of measurement, before the client_secret_basic row of the round
# has been measured; after it, 1.25 x that row (an assertion costs more, never less). Each is
# sent once: a replay would show up as errors in the row.
POOL_RPS = int(os.environ.get("BENCH_ASSERTION_RPS", "3000"))
Load = Callable[[int, int], WrkResult]


def _basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{client_id}:{secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode(), "Content-Type": FORM}


def _post(
    url: str, headers: dict[str, str], body: str, field: str, jwks: str | None, alg: str = "RS256"
) -> Load:
    """A checked endpoint's load: one verified request now, wrk when called."""
    check_token(url, body, headers, jwks, field, alg)

    def load(warmup: int, seconds: int) -> WrkResult:
        return wrk(url, method="POST", body=body, headers=headers, duration=seconds, warmup=warmup)

    return load


def _remembered(load: Load, into: dict[str, float]) -> Load:
    def remember(warmup: int, seconds: int) -> WrkResult:
        result = load(warmup, seconds)
        into["rps"] = result.rps
        return result

    return remember


def _assertion_load(server: Server, jwks: str, secret_row: dict[str, float]) -> Load:
    """``private_key_jwt`` on /access_token: each measurement sends its own fresh pool."""
    key = PartnerKey()
    created = server.cli(
        "clients", "create", "--name", "bench-jwt", "--scope", "profile:read",
        "--auth", "private_key_jwt", "--jwks-file", str(key.jwks_file()),
    )  # fmt: skip
    client_id = str(created["client_id"])
    issuer = httpx.get(f"{server.base}/.well-known/oauth-authorization-server").json()["issuer"]
    url = f"{server.base}/access_token"
    headers = {"Content-Type": FORM}

    def pool(count: int) -> Path:
        return write_pool(key, client_id, issuer, BODY, count)

    check = pool(1)
    _post(url, headers, check.read_text().splitlines()[0], "access_token", jwks)
    check.unlink()

    def load(warmup: int, seconds: int) -> WrkResult:
        rate = 1.25 * secret_row["rps"] if "rps" in secret_row else POOL_RPS
        bodies = pool(int(rate * (warmup + seconds + 1)))
        try:
            return wrk(url, method="POST", headers=headers, duration=seconds, warmup=warmup,
                       bodies=bodies)  # fmt: skip
        finally:
            bodies.unlink()

    return load


def run(ctx: dict[str, float]) -> list[Row]:
    with (
        serve(prepare=set_up_inbox) as server,
        serve(app="bench.bare:sign_only") as floor,
        serve(app="bench.bare:app") as bare,
    ):
        created = server.cli("clients", "create", "--name", "bench", "--scope", "profile:read")
        client_id, secret = str(created["client_id"]), str(created["client_secret"])
        server.cli("apis", "add", "--name", "bench-es256", "--audience", ES256_AUDIENCE,
                   "--scope", "bench:read", "--alg", "ES256")  # fmt: skip
        es256 = server.cli("clients", "create", "--name", "bench-es256", "--api", "bench-es256",
                           "--scope", "bench:read")  # fmt: skip
        es256_auth = _basic(str(es256["client_id"]), str(es256["client_secret"]))
        customer, api_key = seed_inbox_callers(server)
        secret_row: dict[str, float] = {}  # the client_secret_basic row's latest req/s
        jwks = f"{server.base}/.well-known/jwks.json"
        with node_oidc_provider(client_id, secret) as (peer_base, version):
            peer_token = f"{peer_base}/token"
            # V8 compiles the hot path over its first seconds of traffic: reach steady state
            # before the rounds (measured here: ~450 req/s in the first 2 s, ~1,800 after 8 s)
            wrk(
                peer_token,
                method="POST",
                body=BODY,
                headers=_basic(client_id, secret),
                duration=PEER_WARMUP,
                warmup=0,
            )
            loads = {
                "peer": _post(
                    peer_token,
                    _basic(client_id, secret),
                    BODY,
                    "access_token",
                    f"{peer_base}/jwks",
                ),
                "floor": _post(f"{floor.base}/", _basic("x", "y"), BODY, "access_token", None),
                "ours": _remembered(
                    _post(
                        f"{server.base}/access_token",
                        _basic(client_id, secret),
                        BODY,
                        "access_token",
                        jwks,
                    ),
                    secret_row,
                ),
                "ours_es256": _post(
                    f"{server.base}/access_token",
                    es256_auth,
                    ES256_BODY,
                    "access_token",
                    jwks,
                    alg="ES256",
                ),
                "assertion": _assertion_load(server, jwks, secret_row),
                "partner": _post(
                    f"{server.base}/v1/inbox/tokens",
                    {"X-API-Key": api_key, "Content-Type": "application/json"},
                    json.dumps({"identifier": "bench-user"}),
                    "token",
                    None,  # inbox tokens are signed with the vendor's key, not our JWKS's
                ),
                "customer": _post(
                    f"{server.base}/inbox/token",
                    {"Authorization": f"Bearer {customer}"},
                    "",
                    "token",
                    None,
                ),
                "bare": _post(
                    f"{bare.base}/token",
                    _basic("bench-client", "bench-secret"),
                    BODY,
                    "access_token",
                    None,
                ),
            }
            results = interleaved(loads)
    ctx["peer_rps"] = results["peer"].rps
    ctx["sign_only_rps"] = results["floor"].rps
    row = signing_row
    peer = row(f"  node-oidc-provider {version} (node:cluster, 2 workers)", results["peer"], ctx)
    peer.note += "; the peer: RS256 JWT access tokens, client_secret_basic"
    floor_row = row("  sign-only WSGI callable (granian, 2 workers)", results["floor"], ctx)
    floor_row.note += "; the server's floor: body read + one signature"
    return [
        row(
            f"POST /access_token (granian 2 workers, wrk {CONNECTIONS} conns)",
            results["ours"],
            ctx,
            targeted=True,
        ),
        _assertion_row(results["assertion"], results["ours"], ctx),
        row("POST /access_token, an ES256 API (resource=)", results["ours_es256"], ctx),
        row("POST /v1/inbox/tokens (API key)", results["partner"], ctx, targeted=True),
        row("POST /inbox/token (customer Bearer)", results["customer"], ctx),
        peer,
        floor_row,
        row("  bare Flask + PyJWT token endpoint (granian)", results["bare"], ctx),
    ]


def _assertion_row(result: WrkResult, secret: WrkResult, ctx: dict[str, float]) -> Row:
    """private_key_jwt beside client_secret_basic: the goal is within 15 % of the secret row."""
    row = signing_row(
        "POST /access_token, private_key_jwt (a fresh RS256 assertion each)", result, ctx
    )
    share = result.rps / secret.rps if secret.rps else None
    row.targets = [Target(">= 0.85 of client_secret_basic", share, 0.85)]
    row.note += f"; {share:.2f} of the client_secret_basic row" if share else ""
    return row
