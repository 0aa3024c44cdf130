"""`make bench`: run each benchmark module in order and print one table."""

from __future__ import annotations

import importlib
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import CONNECTIONS, DURATION, ROUNDS, WARMUP, Row, print_table  # noqa: E402
from bench.token_endpoint import PEER_WARMUP  # noqa: E402

# Each module exposes run(ctx) -> list[Row]; ctx carries ceilings measured earlier in the run.
MODULES = ["bench.signer", "bench.token_endpoint", "bench.customers", "bench.broker"]


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"


def main() -> None:
    only = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))
    ctx: dict[str, float] = {}
    started, load_before = time.monotonic(), _load()
    rows: list[Row] = []
    for name in MODULES:
        if only and name.split(".")[-1] not in only and name != "bench.signer":
            continue
        module = importlib.import_module(name)
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows.extend(module.run(ctx))
    print(
        f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}\n"
        f"load average before the run {load_before}, after {_load()}\n"
        f"wrk 2 threads, {CONNECTIONS} connections; compared rows: {ROUNDS} interleaved rounds "
        f"of {max(1, DURATION // 2)} s each, median shown ({WARMUP} s warm-up before the first "
        f"round, 1 s before the others; node-oidc-provider warmed {PEER_WARMUP} s more); "
        "the load generator shares the cores with the server; "
        "ratios compare figures of this run only\n"
    )
    print(print_table(rows))
    print(f"\nwhole run: {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
