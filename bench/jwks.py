"""GET /.well-known/jwks.json under gunicorn (2 sync workers) on loopback, wrk."""

from __future__ import annotations

from bench.harness import Row, serve, wrk


def run(ctx: dict[str, float]) -> list[Row]:
    with serve() as server:
        result = wrk(f"{server.base}/.well-known/jwks.json")
    bare = ctx.get("bare_rps")  # measured by bench.broker earlier in the same run
    return [
        Row(
            "GET /.well-known/jwks.json (gunicorn 2 workers, wrk 32 conns)",
            result.rps,
            "req/s",
            result.p50_ms,
            result.p99_ms,
            ratio=result.rps / bare if bare else None,
            ceiling="bare Flask" if bare else "",
            note=f"errors {result.errors + result.non_2xx}",
        )
    ]
