"""`make bench`: run each benchmark module in order and print one table."""

from __future__ import annotations

import importlib
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import DURATION, Row, print_table  # noqa: E402

# Each module exposes run(ctx) -> list[Row]; ctx carries ceilings measured earlier in the run.
MODULES = ["bench.signer", "bench.token_endpoint", "bench.customers", "bench.broker", "bench.jwks"]


def main() -> None:
    only = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))
    ctx: dict[str, float] = {}
    rows: list[Row] = []
    for name in MODULES:
        if only and name.split(".")[-1] not in only and name != "bench.signer":
            continue
        module = importlib.import_module(name)
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows.extend(module.run(ctx))
    print(
        f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; wrk 2 threads, {DURATION}s per row; "
        "the load generator shares the cores with the server\n"
    )
    print(print_table(rows))


if __name__ == "__main__":
    main()
