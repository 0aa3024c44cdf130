"""Benchmark harness: a served instance on loopback, wrk as the load generator, table rows.

Everything runs on this machine: the load generator shares the cores with the server, so every
figure is reported next to yardsticks measured in the same run, and ratios are what to compare.
Our server runs as ``identity serve`` with its defaults; every Python yardstick under granian
with the same workers at its best thread count (``server_command``); the peer,
node-oidc-provider, is started by ``bench.peer``.
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DURATION = int(os.environ.get("BENCH_SECONDS", "10"))
WARMUP = int(os.environ.get("BENCH_WARMUP_SECONDS", "2"))  # discarded before every measurement
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))  # interleaved rounds of the compared rows
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
WORKERS = 2
OUR_APP = "identity.wsgi:app"


@dataclass(frozen=True)
class Target:
    """A goal for one figure of a row: reported as met or missed, never asserted."""

    label: str  # e.g. ">= 1.2x node-oidc-provider"
    value: float | None
    threshold: float
    at_most: bool = False  # True for latencies: lower is better

    @property
    def met(self) -> bool:
        if self.value is None or self.value != self.value:  # not measured, or NaN
            return False
        return self.value <= self.threshold if self.at_most else self.value >= self.threshold


@dataclass
class Row:
    name: str
    value: float
    unit: str
    p50_ms: float | None = None
    p99_ms: float | None = None
    vs_peer: float | None = None  # ratio to node-oidc-provider in the same run
    ratio: float | None = None  # ratio to the yardstick named in ``ceiling``
    ceiling: str = ""
    targets: list[Target] = field(default_factory=list)
    note: str = ""


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    non_2xx: int
    max_ms: float = 0.0


P99_TARGET_MS = 15.0
PEER_TARGET = 1.2  # x node-oidc-provider
FLOOR_TARGET = 0.85  # of the sign-only floor under the same server


def signing_row(
    name: str, result: WrkResult, ctx: dict[str, float], *, targeted: bool = False
) -> Row:
    """A signing endpoint's row: req/s against node-oidc-provider and the sign-only floor.

    ``targeted`` rows carry issue 11's goals; the others show the same ratios for reading only.
    """
    peer, floor, limit = (ctx.get(k) for k in ("peer_rps", "sign_only_rps", "rs256_limit"))
    vs_peer = result.rps / peer if peer else None
    vs_floor = result.rps / floor if floor else None
    targets = []
    if targeted:
        targets = [
            Target(f">= {PEER_TARGET}x node", vs_peer, PEER_TARGET),
            Target(f">= {FLOOR_TARGET} of sign-only", vs_floor, FLOOR_TARGET),
            Target(f"p99 <= {P99_TARGET_MS:g} ms", result.p99_ms, P99_TARGET_MS, at_most=True),
        ]
    of_limit = f"; {result.rps / limit:.2f} of the RS256 limit" if limit else ""
    return Row(
        name,
        result.rps,
        "req/s",
        result.p50_ms,
        result.p99_ms,
        vs_peer=vs_peer,
        ratio=vs_floor,
        ceiling="sign-only",
        targets=targets,
        note=f"errors {result.errors + result.non_2xx}{of_limit}",
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
    warmup: int = WARMUP,
    bodies: Path | None = None,
) -> WrkResult:
    """wrk on ``url`` after ``warmup`` discarded seconds: requests/s, p50, p99 and errors.

    ``bodies``: a file of request bodies, one per line, each sent once (threads take turns;
    the warm-up takes its share of lines first), for requests that may not repeat
    (single-use client assertions)."""
    lua = ["wrk.method = " + json.dumps(method)]
    if body:
        lua.append("wrk.body = " + json.dumps(body))
    for name, value in (headers or {}).items():
        lua.append(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}")
    if bodies is not None:
        lua.append(_EACH_BODY_ONCE.replace("THREADS", str(threads)))
    measured_from = 0  # the first line of the measured run (the warm-up's come before it)
    if bodies is not None and warmup:
        with bodies.open() as lines:
            measured_from = sum(1 for _ in lines) * warmup // (warmup + duration)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lua) + "\n")

    def load(seconds: int, first_line: int = 0) -> str:
        return subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
            + ["-s", script.name, url]
            + (["--", str(bodies), str(first_line)] if bodies is not None else []),
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        ).stdout

    try:
        if warmup:
            load(warmup)  # JIT, caches, connection pools and keep-alive sockets settle first
        out = load(duration, measured_from)
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


# Thread k sends lines k, k + threads, k + 2 * threads, ... so no body is sent twice.
_EACH_BODY_ONCE = """
local started = 0
function setup(thread) thread:set("tid", started); started = started + 1 end
function init(args)
  bodies = {}
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
  first = tonumber(args[2])
  sent = 0
end
function request()
  local index = (first + sent * THREADS + tid) % #bodies + 1
  sent = sent + 1
  return wrk.format(nil, nil, nil, bodies[index])
end
"""


def interleaved(
    loads: dict[str, Callable[[int, int], WrkResult]], rounds: int = ROUNDS
) -> dict[str, WrkResult]:
    """Run every load once per round, in turn, and keep the median of each figure.

    The machine is shared and its load drifts; figures that are compared with each other are
    measured side by side in time rather than minutes apart. Each load takes (warm-up, seconds).
    """
    seconds = max(1, DURATION // 2)
    results: dict[str, list[WrkResult]] = {name: [] for name in loads}
    for index in range(rounds):
        for name, load in loads.items():
            results[name].append(load(WARMUP if index == 0 else 1, seconds))
    return {name: _median(runs) for name, runs in results.items()}


def _median(runs: list[WrkResult]) -> WrkResult:
    def mid(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]

    return WrkResult(
        rps=mid([r.rps for r in runs]),
        p50_ms=mid([r.p50_ms for r in runs]),
        p99_ms=mid([r.p99_ms for r in runs]),
        errors=sum(r.errors for r in runs),
        non_2xx=sum(r.non_2xx for r in runs),
        max_ms=max(r.max_ms for r in runs),
    )


@dataclass
class Server:
    base: str
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None  # None while ``prepare`` runs

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


YARDSTICK_THREADS = 2


def server_command(app: str, port: int, workers: int) -> list[str]:
    """The one place that says how a WSGI app is served: ours through ``identity serve``
    (default settings), a yardstick through granian's CLI at its best: same interface and
    workers, no access log, and 2 blocking threads (a one-signature app only loses to more:
    they contend for the GIL), so the sign-only floor is the most this server can do."""
    if app == OUR_APP:
        return [str(BIN / "identity"), "serve", "--bind", f"127.0.0.1:{port}"] + [
            "--workers",
            str(workers),
        ]
    return [
        str(BIN / "granian"),
        "--interface",
        "wsgi",
        "--workers",
        str(workers),
        "--blocking-threads",
        str(YARDSTICK_THREADS),
        "--no-ws",
        "--no-access-log",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        app,
    ]


def wait_until_up(url: str, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    """Poll ``url`` until it answers 200; a server that exits or never answers fails the run."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"no answer from {url} within {seconds:.0f} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@contextmanager
def serve(
    app: str = OUR_APP,
    workers: int = WORKERS,
    env_extra: dict[str, str] | None = None,
    prepare: Callable[[Server], None] | None = None,
) -> Iterator[Server]:
    """`identity init` in a fresh instance folder, ``prepare`` (CLI set-up before the workers
    start), then ``app`` served on a free loopback port by ``server_command``."""
    instance = Path(tempfile.mkdtemp(prefix="identity-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDENTITY_")}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(
        {
            "IDENTITY_INSTANCE_DIR": str(instance),
            "IDENTITY_LOG_LEVEL": "WARNING",
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
    server = Server(f"http://127.0.0.1:{port}", env)
    if prepare is not None:
        prepare(server)
    server.proc = subprocess.Popen(
        server_command(app, port, workers),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(f"{server.base}/healthz", server.proc)
        yield server
    finally:
        stop(server.proc)
        shutil.rmtree(instance, ignore_errors=True)


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _targets(row: Row) -> str:
    return "; ".join(f"{t.label}: {'met' if t.met else 'MISSED'}" for t in row.targets)


def print_table(rows: list[Row]) -> str:
    """A Markdown table of every row, then one line per target with its figure."""
    head = (
        "benchmark",
        "value",
        "p50 ms",
        "p99 ms",
        "vs node",
        "ratio",
        "yardstick",
        "targets",
        "note",
    )
    lines = [head]
    for r in rows:
        lines.append(
            (
                r.name,
                f"{r.value:,.{0 if r.value >= 100 else 2}f} {r.unit}",
                "" if r.p50_ms is None else f"{r.p50_ms:.2f}",
                "" if r.p99_ms is None else f"{r.p99_ms:.2f}",
                _ratio(r.vs_peer),
                _ratio(r.ratio),
                r.ceiling,
                _targets(r),
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
    summary = [
        f"  {'met   ' if t.met else 'MISSED'}  {r.name.strip()}: {t.label} "
        f"(measured {'n/a' if t.value is None else f'{t.value:.3f}'})"
        for r in rows
        for t in r.targets
    ]
    met = sum(t.met for r in rows for t in r.targets)
    out += ["", f"targets (reported, not asserted): {met} of {len(summary)} met", *summary]
    return "\n".join(out)
