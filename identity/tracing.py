"""OpenTelemetry traces, switched on by the standard ``OTEL_*`` variables; off costs nothing.

Off (the default) imports no OpenTelemetry module: the two hooks below are one flag check each.
On, once per process: a tracer provider with the chosen exporters; spans for every request
(the outermost WSGI app, so the framework-free cores and Flask alike), every SQLAlchemy
statement, every Redis command and every upstream httpx call (the broker, Exchange). The
request id and the route go on the request's span. Usage: docs/operations-and-production.md.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from identity.errors import ConfigError

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
REQUEST_ID_ATTRIBUTE = "identity.request_id"
SERVICE_NAME = "identity"
# What the `otel` extra brings (pyproject.toml): checked before anything of it is imported.
_EXTRA = (
    "opentelemetry.sdk",
    "opentelemetry.exporter.otlp.proto.http",
    "opentelemetry.instrumentation.wsgi",
    "opentelemetry.instrumentation.sqlalchemy",
    "opentelemetry.instrumentation.redis",
    "opentelemetry.instrumentation.httpx",
)


class _State:
    """The process's tracer provider while tracing is on (``None``: off)."""

    provider: Any = None


def enabled(environ: Mapping[str, str]) -> bool:
    """Whether the environment asks for traces: an exporter named, or an OTLP endpoint set."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporters = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporters:
        return exporters != "none"
    return bool(
        environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    )


def active() -> bool:
    return _State.provider is not None


def install_from_environ(environ: Mapping[str, str] = os.environ) -> None:
    """Start tracing once per process when the environment asks for it."""
    if active() or not enabled(environ):
        return
    missing = [name for name in _EXTRA if importlib.util.find_spec(name) is None]
    if missing:
        raise ConfigError(
            "OTEL_TRACES_EXPORTER",
            f"traces need the otel extra (no {missing[0]}): pip install 'msgstack-identity[otel]'",
        )
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    install([BatchSpanProcessor(exporter) for exporter in _exporters(environ)])


def install(processors: Iterable[Any]) -> None:
    """Trace with these span processors: database, Redis and httpx now, requests in ``wrap``."""
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    named = os.environ.get("OTEL_SERVICE_NAME") or "service.name=" in os.environ.get(
        "OTEL_RESOURCE_ATTRIBUTES", ""
    )
    provider = TracerProvider(
        resource=Resource.create({} if named else {"service.name": SERVICE_NAME})
    )
    for processor in processors:
        provider.add_span_processor(processor)
    # Engines made from now on are traced: call before the app's database is set up.
    # Its declared range stops below SQLAlchemy 2.1, whose engine events it uses unchanged
    # (tests/http/test_tracing.py checks the spans): skip the version check, not the spans.
    SQLAlchemyInstrumentor().instrument(tracer_provider=provider, skip_dep_check=True)
    RedisInstrumentor().instrument(tracer_provider=provider)
    HTTPXClientInstrumentor().instrument(tracer_provider=provider)
    _State.provider = provider


def uninstall() -> None:
    """Stop tracing (tests): undo the instrumentation and flush what is buffered."""
    if not active():
        return
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    for instrumentor in (SQLAlchemyInstrumentor(), RedisInstrumentor(), HTTPXClientInstrumentor()):
        instrumentor.uninstrument()
    _State.provider.shutdown()
    _State.provider = None


def wrap(app: WsgiApp) -> WsgiApp:
    """The outermost WSGI app, traced when tracing is on (one server span per request)."""
    if not active():
        return app
    from opentelemetry.instrumentation.wsgi import OpenTelemetryMiddleware

    return OpenTelemetryMiddleware(  # type: ignore[no-any-return]
        app, request_hook=_path_only, tracer_provider=_State.provider
    )


def _path_only(span: Any, environ: dict[str, Any]) -> None:
    """Query strings may carry tokens (``?access_token=``): the span keeps the path only, as
    the access log does."""
    query = str(environ.get("QUERY_STRING") or "")
    if not query:
        return
    for key, value in dict(span.attributes or {}).items():
        if isinstance(value, str) and query in value:
            span.set_attribute(key, value.replace("?" + query, "").replace(query, ""))


def tag_request_id(rid: str) -> None:
    """Put the request id on the request's span (both pipelines bind it)."""
    if _State.provider is not None:
        from opentelemetry import trace

        trace.get_current_span().set_attribute(REQUEST_ID_ATTRIBUTE, rid)


def tag_route(rule: str, method: str) -> None:
    """Name the request's span by its route, as the metrics do (``POST /access_token``)."""
    if _State.provider is not None and rule != "unmatched":
        from opentelemetry import trace

        span = trace.get_current_span()
        span.set_attribute("http.route", rule)
        span.update_name(f"{method} {rule}")


def _exporters(environ: Mapping[str, str]) -> list[Any]:
    """``OTEL_TRACES_EXPORTER`` (default ``otlp``, over HTTP/protobuf) as exporter objects."""
    names = [n.strip().lower() for n in environ.get("OTEL_TRACES_EXPORTER", "otlp").split(",")]
    protocol = environ.get(
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "")
    )
    if "otlp" in names and protocol not in ("", "http/protobuf"):
        raise ConfigError("OTEL_EXPORTER_OTLP_PROTOCOL", "only http/protobuf is supported")
    exporters: list[Any] = []
    for name in names:
        if name == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporters.append(OTLPSpanExporter())  # endpoint, headers, timeout: OTEL_EXPORTER_OTLP_*
        elif name == "console":
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            exporters.append(ConsoleSpanExporter())
        elif name != "none":
            raise ConfigError("OTEL_TRACES_EXPORTER", f"{name!r}: use otlp, console or none")
    return exporters
