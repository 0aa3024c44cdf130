"""Benchmark harness: a served instance on loopback, wrk as the load generator, table rows.

Everything runs on this machine: the load generator shares the cores with the server, so every
figure is reported next to a ceiling measured in the same run, and ratios are what to compare.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DURATION = int(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))


@dataclass
class Row:
    name: str
    value: float
    unit: str
    p50_ms: float | None = None
    p99_ms: float | None = None
    ratio: float | None = None
    ceiling: str = ""
    target: str = ""
    note: str = ""


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    non_2xx: int
    max_ms: float = 0.0


def rs256_row(name: str, result: WrkResult, limit: float, **extra: str) -> Row:
    """A signing endpoint's row: requests/s and its ratio to the run's RS256 limit."""
    return Row(
        name,
        result.rps,
        "req/s",
        result.p50_ms,
        result.p99_ms,
        ratio=result.rps / limit if limit else None,
        ceiling="RS256 limit",
        **extra,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ms(text: str) -> float:
    """wrk's ``1.23ms`` / ``850.00us`` / ``2.01s``; NaN when wrk had no sample (``-nan``)."""
    match = re.match(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        return float("nan")
    number, unit = match.groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(
    url: str,
    *,
    method: str = "GET",
    body: str = "",
    headers: dict[str, str] | None = None,
    connections: int = CONNECTIONS,
    duration: int = DURATION,
    threads: int = 2,
) -> WrkResult:
    """Run wrk against ``url`` and parse requests/s, p50, p99 and errors."""
    lua = ["wrk.method = " + json.dumps(method)]
    if body:
        lua.append("wrk.body = " + json.dumps(body))
    for name, value in (headers or {}).items():
        lua.append(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lua) + "\n")
    try:
        out = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{duration}s",
                "--latency",
                "-s",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=duration + 60,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non_2xx_match = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    latency_max = _ms(re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    non_2xx = int(non_2xx_match.group(1)) if non_2xx_match else 0
    return WrkResult(rps, p50, p99, errors, non_2xx, latency_max)


@dataclass
class Server:
    base: str
    env: dict[str, str]
    proc: subprocess.Popen[bytes]
    extra: dict[str, object] = field(default_factory=dict)

    def cli(self, *args: str, stdin: str | None = None) -> dict[str, object]:
        """Run ``identity ... --json`` against this instance; returns the JSON object."""
        out = subprocess.run(
            [str(BIN / "identity"), *args, "--json"],
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        return json.loads(out.stdout)  # type: ignore[no-any-return]


@contextmanager
def serve(
    app: str = "wsgi:app", workers: int = 2, env_extra: dict[str, str] | None = None
) -> Iterator[Server]:
    """`identity init` in a fresh instance folder, then gunicorn with ``workers`` sync workers."""
    instance = Path(tempfile.mkdtemp(prefix="identity-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDENTITY_")}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env.update(
        {
            "IDENTITY_INSTANCE_DIR": str(instance),
            "IDENTITY_LOG_LEVEL": "WARNING",
            "IDENTITY_WORKERS": str(workers),
            **(env_extra or {}),
        }
    )
    subprocess.run(
        [str(BIN / "identity"), "init"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", app],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield Server(base, env, proc)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        shutil.rmtree(instance, ignore_errors=True)


def print_table(rows: list[Row]) -> str:
    head = ("benchmark", "value", "p50 ms", "p99 ms", "ratio", "ceiling", "target", "note")
    lines = [head]
    for r in rows:
        lines.append(
            (
                r.name,
                f"{r.value:,.0f} {r.unit}",
                "" if r.p50_ms is None else f"{r.p50_ms:.2f}",
                "" if r.p99_ms is None else f"{r.p99_ms:.2f}",
                "" if r.ratio is None else f"{r.ratio:.2f}",
                r.ceiling,
                r.target,
                r.note,
            )
        )
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(head))]
    out = []
    for index, line in enumerate(lines):
        out.append(
            "| " + " | ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)) + " |"
        )
        if index == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)
