"""gunicorn settings for `make run` and the benchmarks; override with GUNICORN_CMD_ARGS."""

import os
import shutil
import sys
import tempfile

bind = os.environ.get("IDENTITY_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("IDENTITY_WORKERS", "2"))
threads = int(os.environ.get("IDENTITY_THREADS", "1"))
# One request at a time per worker, on kept-alive connections (identity.workers): measured on
# loopback (2 cores, wrk 32 connections) it served POST /access_token about 1.3x faster than
# the sync worker (a TCP handshake per request) and than gthread with one thread (a thread
# hand-off per request). With IDENTITY_THREADS > 1, gthread (I/O-bound broker upstream calls).
# IDENTITY_WORKER_CLASS overrides either.
worker_class = os.environ.get("IDENTITY_WORKER_CLASS") or (
    "gthread" if threads > 1 else "identity.workers.KeepAliveWorker"
)
timeout = 30
graceful_timeout = 10
keepalive = 5
accesslog = None  # the app logs one JSON line per request itself
errorlog = "-"
preload_app = False

# Prometheus: aggregate metrics across workers.
if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="identity-metrics-")


def on_starting(server):  # noqa: ARG001
    """Validate configuration and key material before any worker starts: one line on error."""
    from identity.app import create_app
    from identity.errors import ConfigError
    from identity.services.setup import check_startup

    try:
        check_startup(create_app())
    except ConfigError as exc:
        print(f"identity: {exc}", file=sys.stderr)
        sys.exit(2)


def child_exit(server, worker):  # noqa: ARG001
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):  # noqa: ARG001
    shutil.rmtree(os.environ.get("PROMETHEUS_MULTIPROC_DIR", ""), ignore_errors=True)
