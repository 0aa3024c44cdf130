"""``identity serve``: the application under granian, after the start-up checks.

Each worker process runs the WSGI app on a pool of blocking threads, so a request that waits
on a slow upstream holds one thread, never the worker: signing goes on beside it.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile

import click
from flask import current_app
from flask.cli import with_appcontext

from identity.errors import ConfigError
from identity.models.base import db

DEFAULT_BIND = "127.0.0.1:8000"
# Requests in flight per worker. Broker reads may wait seconds on an upstream and give their
# admission back meanwhile (identity.admission), so a few slots serve the rest. No more threads
# than the database pool holds (5 + 10 overflow, identity.app): a thread never waits for a
# connection while holding an admission.
DEFAULT_THREADS = 15
GRACE_SECONDS = 20  # SIGTERM: in-flight requests get this long before workers are killed


def parse_bind(bind: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) → ``(host, port)``; one-line error otherwise."""
    host, sep, port = bind.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError("--bind", f"must be HOST:PORT, not {bind!r}")
    return host, int(port)


@click.command("serve")
@click.option(
    "--bind",
    envvar="IDENTITY_BIND",
    default=DEFAULT_BIND,
    show_default=True,
    show_envvar=True,
    help="Address to listen on, HOST:PORT.",
)
@click.option(
    "--workers",
    envvar="IDENTITY_WORKERS",
    type=click.IntRange(1),
    default=2,
    show_default=True,
    show_envvar=True,
    help="Worker processes (one per core is a good start).",
)
@click.option(
    "--threads",
    envvar="IDENTITY_THREADS",
    type=click.IntRange(1),
    default=DEFAULT_THREADS,
    show_default=True,
    show_envvar=True,
    help="Blocking threads per worker: how many requests one worker answers at once.",
)
@with_appcontext
def serve_command(bind: str, workers: int, threads: int) -> None:
    """Serve the application (granian, WSGI) after the start-up checks."""
    from granian.constants import Interfaces
    from granian.server import Server

    from identity.setup import check_startup

    host, port = parse_bind(bind)
    check_startup(current_app)  # a ConfigError here is one line and exit code 2
    db.engine.dispose()  # no connection of this process outlives the checks
    metrics_dir = _metrics_dir()
    # Workers start as fresh interpreters: they import the app (and prometheus_client's
    # multi-process mode) anew instead of inheriting this process's objects and sockets.
    multiprocessing.set_start_method("spawn", force=True)
    try:
        Server(
            "identity.wsgi:app",
            address=host,
            port=port,
            interface=Interfaces.WSGI,
            workers=workers,
            blocking_threads=threads,
            websockets=False,
            respawn_failed_workers=True,
            workers_kill_timeout=GRACE_SECONDS,
            log_access=False,  # the app writes one JSON line per request itself
        ).serve()
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _metrics_dir() -> str | None:
    """Prometheus multi-process mode: workers share a folder; ours unless one is configured."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return None
    path = tempfile.mkdtemp(prefix="identity-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    return path


commands = [serve_command]
