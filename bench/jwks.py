"""GET /.well-known/jwks.json under granian (2 workers) on loopback, against bare Flask."""

from __future__ import annotations

from bench.harness import Row, Target, serve, wrk

TARGET = 0.8  # of bare Flask under the same server


def run(ctx: dict[str, float]) -> list[Row]:
    with serve() as server:
        result = wrk(f"{server.base}/.well-known/jwks.json")
    bare = ctx.get("bare_rps")  # measured by bench.broker earlier in the same run
    ratio = result.rps / bare if bare else None
    return [
        Row(
            "GET /.well-known/jwks.json (granian 2 workers)",
            result.rps,
            "req/s",
            result.p50_ms,
            result.p99_ms,
            ratio=ratio,
            ceiling="bare Flask",
            targets=[Target(f">= {TARGET} of bare Flask", ratio, TARGET)],
            note=f"errors {result.errors + result.non_2xx}",
        )
    ]
