"""OpenTelemetry traces: off by default and unimported; on, a span per request, statement,
Redis command and upstream call, with the request id on the request's span."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from identity import tracing
from identity.devtools.mock_infobip import MockInfobip
from identity.errors import ConfigError
from tests import backends
from tests.broker_helpers import add_connection
from tests.conftest import access_token, bearer
from tests.partners_helpers import CC, basic, make_client

sdk_trace = pytest.importorskip("opentelemetry.sdk.trace", reason="the otel extra is not installed")
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on for the apps this test makes, into memory; off again afterwards."""
    exporter = InMemorySpanExporter()
    tracing.install([SimpleSpanProcessor(exporter)])
    yield exporter
    tracing.uninstall()


def server_span(exporter: InMemorySpanExporter, name: str) -> Any:
    (span,) = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert span.name == name
    return span


def children(exporter: InMemorySpanExporter, parent: Any) -> list[Any]:
    """The spans made while answering ``parent``'s request (same trace, not the request's)."""
    trace_id = parent.context.trace_id
    return [
        s
        for s in exporter.get_finished_spans()
        if s.context.trace_id == trace_id and s is not parent
    ]


def url_of(span: Any) -> str:
    return str(span.attributes.get("url.full", span.attributes.get("http.url")))


def status_of(span: Any) -> int:
    """The response status, under the old or the stable HTTP semantic conventions."""
    attributes = span.attributes
    return int(attributes.get("http.response.status_code", attributes.get("http.status_code")))


@pytest.mark.parametrize(
    ("environ", "on"),
    [
        ({}, False),
        ({"OTEL_SERVICE_NAME": "identity"}, False),  # naming the service asks for nothing
        ({"OTEL_TRACES_EXPORTER": "none"}, False),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, False),
    ],
)
def test_the_standard_variables_switch_tracing_on(environ: dict[str, str], on: bool) -> None:
    assert tracing.enabled(environ) is on


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER"),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "PROTOCOL"),
    ],
)
def test_an_exporter_we_cannot_build_is_one_config_error(
    environ: dict[str, str], variable: str
) -> None:
    with pytest.raises(ConfigError) as error:
        tracing.install_from_environ(environ)
    assert variable in str(error.value)
    assert not tracing.active()


def test_tracing_asked_for_without_the_extra_is_one_config_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name.endswith("instrumentation.redis") else real(name, *a),
    )
    with pytest.raises(ConfigError) as error:
        tracing.install_from_environ({"OTEL_TRACES_EXPORTER": "console"})
    assert "msgstack-identity[otel]" in str(error.value)
    assert not tracing.active()


def test_off_by_default_nothing_of_opentelemetry_is_imported(tmp_path: Path) -> None:
    """Without OTEL_* variables the app is not wrapped and loads no tracer, exporter or
    instrumentation."""
    script = (
        "import sys\n"
        "from identity.app import create_app\n"
        "from identity.setup import initialise\n"
        "from tests.conftest import TEST_SECRETS\n"
        f"app = create_app({{**TEST_SECRETS, 'database_url': 'sqlite:///{tmp_path}/t.db'}})\n"
        "with app.app_context():\n"
        "    initialise()\n"
        "assert app.test_client().get('/healthz').status_code == 200\n"
        "print(type(app.wsgi_app).__name__)\n"
        "ours = ('opentelemetry.sdk.trace', 'opentelemetry.instrumentation', 'opentelemetry.exp')\n"
        "print(sorted(m for m in sys.modules if m.startswith(ours)))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    # (redis-py 8 imports OpenTelemetry's metrics API when it is installed: not ours to trim.)
    assert run.stdout.strip().splitlines()[-2:] == ["BodyGate", "[]"]


def test_the_console_exporter_prints_the_request_span_when_asked_for(tmp_path: Path) -> None:
    """OTEL_TRACES_EXPORTER=console alone switches tracing on; spans leave at exit."""
    script = (
        "from identity.app import create_app\n"
        "from identity.setup import initialise\n"
        "from tests.conftest import TEST_SECRETS\n"
        f"app = create_app({{**TEST_SECRETS, 'database_url': 'sqlite:///{tmp_path}/t.db'}})\n"
        "with app.app_context():\n"
        "    initialise()\n"
        "answer = app.test_client().get('/healthz', headers={'X-Request-Id': 'console-1'},\n"
        "                               buffered=True)\n"
        "assert answer.status_code == 200\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env |= {"OTEL_TRACES_EXPORTER": "console", "OTEL_SERVICE_NAME": "identity-test"}
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert '"name": "GET /healthz"' in run.stdout
    assert '"identity.request_id": "console-1"' in run.stdout
    assert '"service.name": "identity-test"' in run.stdout


def test_a_token_request_is_one_server_span_with_its_route_request_id_and_database_spans(
    make_app: Any, spans: InMemorySpanExporter
) -> None:
    app = make_app()
    partner = make_client(app, "profile:read")
    spans.clear()

    response = app.test_client().post(
        "/access_token",
        data={"grant_type": CC},
        headers={**basic(partner.client_id, partner.client_secret), "X-Request-Id": "trace-1"},
        buffered=True,  # the request span ends when the body is consumed and closed
    )

    assert response.status_code == 200
    span = server_span(spans, "POST /access_token")
    assert span.attributes["http.route"] == "/access_token"
    assert status_of(span) == 200
    assert span.attributes[tracing.REQUEST_ID_ATTRIBUTE] == "trace-1"
    # The client is looked up (client cache 0 s in tests): statements are children of the request.
    statements = [s for s in children(spans, span) if "db.system" in s.attributes]
    assert statements, [s.name for s in children(spans, span)]
    assert all(s.parent.span_id == span.context.span_id for s in statements)
    assert {s.attributes["db.system"] for s in statements} == {
        "postgresql" if backends.BACKEND == "postgres" else "sqlite"
    }


def test_a_flask_route_gets_its_rule_as_span_name_and_redis_calls_their_spans(
    make_app: Any, spans: InMemorySpanExporter
) -> None:
    app = make_app()
    spans.clear()

    response = app.test_client().get("/readyz", buffered=True)

    assert response.status_code == 200
    span = server_span(spans, "GET /readyz")
    assert span.attributes[tracing.REQUEST_ID_ATTRIBUTE] == response.headers["X-Request-Id"]
    systems = {s.attributes.get("db.system") for s in children(spans, span)}
    assert "redis" in systems if backends.BACKEND == "postgres" else "redis" not in systems


def test_a_brokered_read_traces_the_upstream_login(
    make_app: Any, spans: InMemorySpanExporter
) -> None:
    with MockInfobip() as mock:
        app = make_app(broker_jitter=0.0)
        add_connection(app, mock)
        headers = bearer(access_token(app, "upstream:read"))
        spans.clear()

        response = app.test_client().get(
            "/upstream/connections/sms/authorization", headers=headers, buffered=True
        )

    assert response.status_code == 200
    span = server_span(spans, "GET /upstream/connections/<name>/authorization")
    upstream = [s for s in children(spans, span) if s.attributes.get("db.system") is None]
    urls = [url_of(s) for s in upstream]
    assert urls == [f"{mock.base_url}/auth/1/session"]  # the one login, under the read's span
    assert all(s.kind is SpanKind.CLIENT for s in upstream)


def test_no_span_carries_a_query_string(make_app: Any, spans: InMemorySpanExporter) -> None:
    """Query strings may carry tokens (``?access_token=``): spans name the path only."""
    app = make_app()
    spans.clear()

    app.test_client().get("/readyz?access_token=do-not-trace-me", buffered=True)

    span = server_span(spans, "GET /readyz")
    for value in span.attributes.values():
        assert "do-not-trace-me" not in str(value)
    assert span.attributes.get("http.target", span.attributes.get("url.path")) == "/readyz"
