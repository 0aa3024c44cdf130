"""POST /access_token (client credentials, fresh token per request) under gunicorn, wrk."""

from __future__ import annotations

import base64

from bench.harness import CONNECTIONS, Row, serve, wrk

TARGET = 0.55


def run(ctx: dict[str, float]) -> list[Row]:
    with serve() as server:
        created = server.cli("clients", "create", "--name", "bench", "--scope", "bench:read")
        raw = f"{created['client_id']}:{created['client_secret']}".encode()
        result = wrk(
            f"{server.base}/access_token",
            method="POST",
            body="grant_type=client_credentials",
            headers={
                "Authorization": "Basic " + base64.b64encode(raw).decode(),
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
    limit = ctx.get("rs256_limit")
    return [
        Row(
            f"POST /access_token (gunicorn 2 workers, wrk {CONNECTIONS} conns)",
            result.rps,
            "req/s",
            result.p50_ms,
            result.p99_ms,
            ratio=result.rps / limit if limit else None,
            ceiling="RS256 limit",
            target=f">= {TARGET}",
            note=f"fresh token per request; errors {result.errors + result.non_2xx}",
        )
    ]
