"""POST /access_token (client credentials, a fresh RS256 JWT per request) beside its peer.

Same run, same wrk settings, same request body and client credentials:
- node-oidc-provider 9 (node:cluster, 2 workers, RS256 JWT access tokens): the peer;
- a sign-only WSGI callable under the same granian settings: the server's floor, what is left
  once the app costs nothing but one signature;
- a bare Flask + PyJWT token endpoint under the same granian settings: for reading only.
"""

from __future__ import annotations

import base64

from bench.harness import CONNECTIONS, Row, WrkResult, serve, signing_row, wrk
from bench.peer import check_rs256_token, node_oidc_provider

FORM = "application/x-www-form-urlencoded"
BODY = "grant_type=client_credentials&scope=bench:read"


def _headers(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{client_id}:{secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode(), "Content-Type": FORM}


def _token_load(url: str, headers: dict[str, str], jwks: str | None = None) -> WrkResult:
    if jwks is not None:
        check_rs256_token(url, BODY, headers, jwks, "access_token")
    return wrk(url, method="POST", body=BODY, headers=headers)


def run(ctx: dict[str, float]) -> list[Row]:
    with serve() as server:
        created = server.cli("clients", "create", "--name", "bench", "--scope", "bench:read")
        headers = _headers(str(created["client_id"]), str(created["client_secret"]))
        with node_oidc_provider(str(created["client_id"]), str(created["client_secret"])) as (
            peer_base,
            version,
        ):
            peer = _token_load(f"{peer_base}/token", headers, f"{peer_base}/jwks")
        ctx["peer_rps"] = peer.rps
        ours = _token_load(
            f"{server.base}/access_token", headers, f"{server.base}/.well-known/jwks.json"
        )
    with serve(app="bench.bare:sign_only") as floor:
        sign_only = _token_load(f"{floor.base}/", _headers("x", "y"))
    ctx["sign_only_rps"] = sign_only.rps  # the inbox rows that run next compare with it too
    with serve(app="bench.bare:app") as bare:
        baseline = _token_load(f"{bare.base}/token", _headers("bench-client", "bench-secret"))
    peer_row = signing_row(f"  node-oidc-provider {version} (node:cluster, 2 workers)", peer, ctx)
    peer_row.note += "; the peer: RS256 JWT access tokens, client_secret_basic"
    floor_row = signing_row("  sign-only WSGI callable (granian, 2 workers)", sign_only, ctx)
    floor_row.note += "; the server's floor: body read + one signature"
    bare_row = signing_row("  bare Flask + PyJWT token endpoint (granian)", baseline, ctx)
    return [
        signing_row(
            f"POST /access_token (granian 2 workers, wrk {CONNECTIONS} conns)",
            ours,
            ctx,
            targeted=True,
        ),
        peer_row,
        floor_row,
        bare_row,
    ]
