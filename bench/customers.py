"""Customer login under granian (2 workers), and the inbox set-up the signing rows use.

Login is deliberately bounded by argon2id: its row reports the in-process time per hash beside
the rate. The inbox rows sign once per request and are measured with /access_token, beside
node-oidc-provider, in ``bench.token_endpoint``.
"""

from __future__ import annotations

import threading
import time

import httpx

from bench.harness import DURATION, Row, Server, WrkResult, serve
from identity.config import Settings
from identity.services.customers import password_hasher

PASSWORD = "bench password 0123456789"  # noqa: S105 - a throwaway benchmark account


def set_up_inbox(server: Server) -> None:
    """The default inbox app signs with an imported Engagespot key (generated here, never
    stored), as a production deployment does (issue 13)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    server.cli(
        "inbox-apps", "add", "--name", "bench", "--vendor", "engagespot",
        "--api-key", "bench-inbox-api-key", "--key-stdin", "--default", stdin=pem.decode(),
    )  # fmt: skip


def argon2_ms_per_hash(settings: Settings, rounds: int = 10) -> float:
    """Mean argon2id hash time with the configured parameters, in-process, one core."""
    hasher = password_hasher(settings)
    start = time.perf_counter()
    for _ in range(rounds):
        hasher.hash(PASSWORD)
    return (time.perf_counter() - start) / rounds * 1000


def seed_inbox_callers(server: Server) -> tuple[str, str]:
    """A customer's token (via a real login) and an inbox:issue API key, for the load."""
    server.cli("users", "create", "--username", "bench", "--password-stdin", stdin=PASSWORD + "\n")
    key = str(server.cli("api-keys", "create", "--name", "bench", "--scope", "inbox:issue")["key"])
    response = httpx.post(
        f"{server.base}/customer_authenticate",
        json={"username": "bench", "password": PASSWORD},
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["access_token"]), key


def login_load(base: str, clients: int = 2, seconds: float = DURATION) -> WrkResult:
    """Closed-loop logins from ``clients`` threads (one per worker): argon2 bounds the rate,
    and wrk's 2 s timeout would count slow-but-correct logins as errors."""
    body = {"username": "bench", "password": PASSWORD}
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()

    def loop() -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            deadline = time.perf_counter() + seconds
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                status = client.post("/customer_authenticate", json=body).status_code
                with lock:
                    latencies.append((time.perf_counter() - start) * 1000)
                    failures[0] += status != 200

    threads = [threading.Thread(target=loop) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies) or [0.0]
    return WrkResult(
        rps=len(latencies) / elapsed,
        p50_ms=ordered[len(ordered) // 2],
        p99_ms=ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        errors=0,
        non_2xx=failures[0],
    )


def run(ctx: dict[str, float]) -> list[Row]:
    rows: list[Row] = []
    with serve() as server:
        seed_inbox_callers(server)  # the user whose password the load sends
        settings = Settings.from_mapping(server.env)
        per_hash = argon2_ms_per_hash(settings)
        login = login_load(server.base)
        params = (
            f"argon2id t={settings.argon2_time_cost} m={settings.argon2_memory_kib} KiB "
            f"p={settings.argon2_parallelism}"
        )
        rows.append(
            Row(
                "POST /customer_authenticate (2 closed-loop clients)",
                login.rps,
                "req/s",
                login.p50_ms,
                login.p99_ms,
                ceiling=f"2 cores / {per_hash:.0f} ms ≈ {2000 / per_hash:.0f}",
                note=f"{login.rps:.1f} req/s; {params}: {per_hash:.1f} ms/hash in-process; "
                f"errors {login.errors + login.non_2xx}",
            )
        )
    return rows
