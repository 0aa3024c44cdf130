"""`make load`: 60 s of mixed traffic on loopback at the highest rate the cores give.

One `identity serve` instance (granian, 2 workers) over PostgreSQL + Redis when they answer
(SQLite otherwise), a mock Infobip upstream, and four wrk processes at once — token endpoint,
inbox tokens, introspection, cached broker reads — each reporting its own requests/s and
latency. RSS of every worker is read before and after. Bounded in time; loopback only.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.broker import mock_upstream  # noqa: E402
from bench.customers import set_up_inbox  # noqa: E402
from bench.harness import WrkResult, serve, wrk  # noqa: E402

SECONDS = int(os.environ.get("LOAD_SECONDS", "60"))
CONNECTIONS = int(os.environ.get("LOAD_CONNECTIONS", "8"))  # per endpoint
WARMUP = 5


def backing_env() -> dict[str, str]:
    """PostgreSQL + Redis when both answer (a fresh database), else the embedded mode."""
    try:
        from tests import backends

        if backends.postgres_available() and backends.redis_available():
            return {
                "DATABASE_URL": backends.create_pg_database(),
                "REDIS_URL": backends.REDIS_URL,
                "IDENTITY_REDIS_PREFIX": f"{backends.SESSION_PREFIX}load:",  # deleted after
            }
    except ImportError:
        pass
    return {}


def worker_rss(master_pid: int) -> dict[int, int]:
    """RSS in KiB of each server worker (children of the serving process)."""
    out = subprocess.run(
        ["ps", "-o", "pid=,rss=", "--ppid", str(master_pid)],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return {int(pid): int(rss) for pid, rss in (line.split() for line in out.splitlines())}


def main() -> int:
    env_extra = backing_env()
    try:
        with mock_upstream() as mock_base, serve(env_extra=env_extra) as server:
            return run(server, mock_base)
    finally:
        if "DATABASE_URL" in env_extra:
            from tests import backends

            backends.drop_pg_database(env_extra["DATABASE_URL"])
            backends.delete_redis_keys(env_extra["IDENTITY_REDIS_PREFIX"])


def run(server: object, mock_base: str) -> int:
    base = server.base  # type: ignore[attr-defined]
    cli = server.cli  # type: ignore[attr-defined]
    client = cli("clients", "create", "--name", "load", "--scope", "upstream:read profile:read")
    key = cli("api-keys", "create", "--name", "load", "--scope", "inbox:issue")
    set_up_inbox(server)  # type: ignore[arg-type]
    cli(
        "upstream",
        "add",
        "--name",
        "infobip",
        "--base-url",
        mock_base,
        "--method",
        "oauth2",
        "--client-id",
        "client",  # the mock's default credentials
        "--secret-stdin",
        stdin="secret\n",
    )
    basic = base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode()).decode()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    token = httpx.post(
        f"{base}/access_token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    ).json()["access_token"]
    assert (
        httpx.get(
            f"{base}/upstream/connections/infobip/authorization",
            headers={"Authorization": f"Bearer {token}"},
        ).status_code
        == 200
    )
    plans = {
        "POST /access_token": dict(
            url=f"{base}/access_token",
            method="POST",
            body="grant_type=client_credentials",
            headers={**form, "Authorization": f"Basic {basic}"},
        ),
        "POST /v1/inbox/tokens": dict(
            url=f"{base}/v1/inbox/tokens",
            method="POST",
            body='{"identifier": "load-user-1"}',
            headers={"Content-Type": "application/json", "X-API-Key": str(key["key"])},
        ),
        "POST /introspect": dict(
            url=f"{base}/introspect",
            method="POST",
            body=f"token={token}",
            headers={**form, "Authorization": f"Basic {basic}"},
        ),
        "GET broker authorization (cached)": dict(
            url=f"{base}/upstream/connections/infobip/authorization",
            headers={"Authorization": f"Bearer {token}"},
        ),
    }
    master = server.proc.pid  # type: ignore[attr-defined]
    results: dict[str, WrkResult] = {}

    def mixed(seconds: int) -> None:
        def load(name: str, plan: dict[str, object]) -> None:
            # the mixed run has its own warm-up (WARMUP): no per-wrk one
            results[name] = wrk(  # type: ignore[arg-type]
                connections=CONNECTIONS, duration=seconds, threads=1, warmup=0, **plan
            )

        threads = [threading.Thread(target=load, args=item) for item in plans.items()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    mixed(WARMUP)  # every worker has served every endpoint before memory is measured
    before = worker_rss(master)
    started = time.monotonic()
    mixed(SECONDS)
    after = worker_rss(master)
    print(
        f"\nmixed load: {SECONDS}s, {len(plans)} wrk processes × {CONNECTIONS} connections, "
        f"granian 2 workers, {time.monotonic() - started:.0f}s wall\n"
    )
    print("| endpoint | req/s | p50 ms | p99 ms | max ms | errors |")
    print("|---|---|---|---|---|---|")
    total_errors = 0
    for name, r in results.items():
        errors = r.errors + r.non_2xx
        total_errors += errors
        print(
            f"| {name} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.max_ms:.1f} "
            f"| {errors} |"
        )
    print("\n| worker pid | RSS before (MiB) | RSS after (MiB) | growth |")
    print("|---|---|---|---|")
    worst = 0.0
    for pid, rss in before.items():
        if pid in after:
            growth = (after[pid] - rss) / rss
            worst = max(worst, growth)
            print(f"| {pid} | {rss / 1024:.1f} | {after[pid] / 1024:.1f} | {growth:+.1%} |")
    ok = total_errors == 0 and worst <= 0.10
    print(
        f"\nerrors: {total_errors} (must be 0); worst RSS growth {worst:+.1%} (limit +10%): "
        f"{'OK' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
