"""``identity serve``: the application under granian, after the start-up checks.

Each worker process runs the WSGI app on a pool of blocking threads, so a request that waits
on a slow upstream holds one thread, never the worker: signing goes on beside it.

The supervisor stays small: it imports click and granian only. The start-up checks build the
app in a short-lived child process, and each worker imports the app itself (``identity.wsgi``).
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
from typing import Any

import click
from click.core import ParameterSource

from identity.errors import ConfigError

DEFAULT_BIND = "127.0.0.1:8000"
# Requests in flight per worker. Broker reads may wait seconds on an upstream and give their
# admission back meanwhile (identity.admission), so a few slots serve the rest. No more threads
# than the database pool holds (5 + 10 overflow, identity.app): a thread never waits for a
# connection while holding an admission.
DEFAULT_THREADS = 15
GRACE_SECONDS = 20  # SIGTERM: in-flight requests get this long before workers are killed


class OptionError(click.ClickException):
    """A bad option or variable: one line naming it, exit code 2, under any click entry point
    (``identity serve`` and ``flask --app wsgi identity serve`` alike), never a usage block."""

    exit_code = 2

    def __init__(self, error: ConfigError) -> None:
        super().__init__(str(error))

    def show(self, file: Any = None) -> None:
        click.echo(f"identity: {self.message}", err=True)


def _source(ctx: click.Context, param: click.Parameter) -> str:
    """How the user named ``param``: its variable when the value came from the environment."""
    if ctx.get_parameter_source(param.name or "") is ParameterSource.ENVIRONMENT:
        return str(param.envvar)
    return param.opts[0]


def parse_bind(bind: str, name: str = "--bind") -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) → ``(host, port)``; one-line error otherwise."""
    host, sep, port = bind.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(name, f"must be HOST:PORT, not {bind!r}")
    return host, int(port)


def _bind(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, int]:
    try:
        return parse_bind(value, _source(ctx, param))
    except ConfigError as exc:
        raise OptionError(exc) from None


def _count(ctx: click.Context, param: click.Parameter, value: str) -> int:
    """A whole number >= 1; otherwise one line naming the option or variable (exit code 2)."""
    text = str(value).strip()
    if not text.isdigit() or int(text) < 1:
        problem = f"must be a whole number of at least 1, not {text!r}"
        raise OptionError(ConfigError(_source(ctx, param), problem))
    return int(text)


@click.command("serve")
@click.option(
    "--bind",
    envvar="IDENTITY_BIND",
    default=DEFAULT_BIND,
    show_default=True,
    show_envvar=True,
    callback=_bind,
    help="Address to listen on, HOST:PORT.",
)
@click.option(
    "--workers",
    envvar="IDENTITY_WORKERS",
    default="2",
    show_default=True,
    show_envvar=True,
    callback=_count,
    help="Worker processes (one per core is a good start).",
)
@click.option(
    "--threads",
    envvar="IDENTITY_THREADS",
    default=str(DEFAULT_THREADS),
    show_default=True,
    show_envvar=True,
    callback=_count,
    help="Blocking threads per worker: how many requests one worker answers at once.",
)
def serve_command(bind: tuple[str, int], workers: int, threads: int) -> None:
    """Serve the application (granian, WSGI) after the start-up checks."""
    from granian.constants import Interfaces
    from granian.server import Server

    _check_startup()
    metrics_dir = _metrics_dir()
    # Workers start as fresh interpreters: they import the app (and prometheus_client's
    # multi-process mode) anew instead of inheriting this process's objects and sockets.
    multiprocessing.set_start_method("spawn", force=True)
    try:
        Server(
            "identity.wsgi:app",
            address=bind[0],
            port=bind[1],
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


def _check_startup() -> None:
    """Run the start-up checks in a child process, so this one never imports the app.

    The child reports a failure itself, in one line (``identity.console``); we exit with its code.
    """
    child = [sys.executable, "-c", "from identity.console import check; check()"]
    done = subprocess.run(child, check=False)  # noqa: S603 - our own interpreter and module
    if done.returncode:
        sys.exit(done.returncode)


def _metrics_dir() -> str | None:
    """Prometheus multi-process mode: workers share a folder; ours unless one is configured."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return None
    path = tempfile.mkdtemp(prefix="identity-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    return path


commands = [serve_command]
