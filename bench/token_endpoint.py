"""POST /access_token (client credentials, fresh token per request) under gunicorn, wrk.

Two same-run yardsticks beside the RS256 limit: a bare Flask + PyJWT token endpoint under
gunicorn's default sync worker (the issue's baseline), and a sign-only WSGI callable under our
gunicorn configuration (what is left once the app costs nothing: the server's own floor).
"""

from __future__ import annotations

import base64

from bench.harness import CONNECTIONS, Row, WrkResult, rs256_row, serve, wrk

TARGET = 0.55
FORM = "application/x-www-form-urlencoded"


def _token_load(base: str, path: str, client_id: str, secret: str) -> WrkResult:
    raw = f"{client_id}:{secret}".encode()
    return wrk(
        f"{base}{path}",
        method="POST",
        body="grant_type=client_credentials",
        headers={"Authorization": "Basic " + base64.b64encode(raw).decode(), "Content-Type": FORM},
    )


def run(ctx: dict[str, float]) -> list[Row]:
    limit = ctx.get("rs256_limit", 0.0)
    with serve() as server:
        created = server.cli("clients", "create", "--name", "bench", "--scope", "profile:read")
        ours = _token_load(
            server.base, "/access_token", str(created["client_id"]), str(created["client_secret"])
        )
    with serve(app="bench.bare:app", env_extra={"IDENTITY_WORKER_CLASS": "sync"}) as bare:
        baseline = _token_load(bare.base, "/token", "bench-client", "bench-secret")
    with serve(app="bench.bare:sign_only") as floor:
        sign_only = _token_load(floor.base, "/", "x", "y")
    ctx["sign_only_rps"] = sign_only.rps  # the inbox rows that run next compare with it too
    return [
        rs256_row(
            f"POST /access_token (gunicorn 2 workers, wrk {CONNECTIONS} conns)",
            ours,
            limit,
            target=f">= {TARGET}",
            note=f"fresh token per request; errors {ours.errors + ours.non_2xx}; "
            f"{ours.rps / baseline.rps:.2f}x bare Flask+PyJWT, "
            f"{ours.rps / sign_only.rps:.2f} of sign-only",
        ),
        rs256_row(
            "  bare Flask + PyJWT token endpoint (gunicorn sync, 2 workers)",
            baseline,
            limit,
            note=f"the issue's baseline; errors {baseline.errors + baseline.non_2xx}",
        ),
        rs256_row(
            "  sign-only WSGI callable (our gunicorn config, 2 workers)",
            sign_only,
            limit,
            note="server floor: no app work but one signature; "
            f"errors {sign_only.errors + sign_only.non_2xx}",
        ),
    ]
