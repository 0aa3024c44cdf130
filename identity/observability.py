"""Request ids, one JSON access-log line per request, Prometheus metrics."""

from __future__ import annotations

import contextvars
import functools
import json
import logging
import os
import re
import sys
import time
from typing import Any

from flask import Flask, Response, g, request
from prometheus_client import CollectorRegistry, generate_latest, multiprocess

from identity import tracing
from identity.metrics import LATENCY, REQUESTS

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
access_log = logging.getLogger("identity.access")


class JsonFormatter(logging.Formatter):
    """One JSON object per line; fields come from ``extra={"fields": {...}}``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str) -> None:
    root = logging.getLogger()
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.handlers = [handler]
    root.setLevel(level.upper())
    # Authlib logs issued tokens at DEBUG ("Issue token %r"): never let a token reach a log line.
    logging.getLogger("authlib").setLevel(max(logging.INFO, root.level))


_REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def request_id() -> str:
    """The id of the request this thread is answering ("-" outside one)."""
    return _REQUEST_ID.get()


def bind_request_id(rid: str) -> None:
    """This request's id, for log lines written while answering it, and traces; no
    framework needed (the cores' requests and Flask's alike)."""
    _REQUEST_ID.set(rid)
    tracing.tag_request_id(rid)


def new_request_id(sent: str) -> str:
    """The caller's ``X-Request-Id`` when well-formed, else a fresh random one."""
    return sent if sent and REQUEST_ID.match(sent) else os.urandom(16).hex()


# Label values a caller can choose are folded, so that no request creates a new series.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@functools.lru_cache(maxsize=4096)
def _series(endpoint: str, method: str, status: int) -> tuple[Any, Any]:
    """The metric children of one label set (``labels()`` costs more than the update)."""
    method = method if method in METHODS else "OTHER"
    return REQUESTS.labels(endpoint, method, str(status)), LATENCY.labels(endpoint)


def record_request(
    endpoint: str, method: str, path: str, status: int, elapsed: float, rid: str
) -> None:
    """Metrics and the access-log line of one request (Flask views and the cores alike)."""
    count, latency = _series(endpoint, method, status)
    tracing.tag_route(endpoint, method)
    count.inc()
    latency.observe(elapsed)
    if access_log.isEnabledFor(logging.INFO):
        # The path only: query strings may carry tokens (?access_token=).
        access_log.info(
            "request",
            extra={
                "fields": {
                    "request_id": rid,
                    "method": method,
                    "path": path,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                }
            },
        )


def init_app(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()
        bind_request_id(new_request_id(request.headers.get("X-Request-Id", "")))

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers["X-Request-Id"] = request_id()
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        record_request(
            endpoint, request.method, request.path, response.status_code, elapsed, request_id()
        )
        return response


def metrics_text() -> tuple[bytes, str]:
    """Prometheus exposition; aggregates the server's workers when multiprocess mode is on."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
