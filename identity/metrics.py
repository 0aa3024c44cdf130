"""The service's Prometheus metrics (no Flask: services count what they issue here)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter(
    "identity_http_requests_total", "HTTP requests", ["endpoint", "method", "status"]
)
LATENCY = Histogram(
    "identity_http_request_duration_seconds",
    "HTTP request duration",
    ["endpoint"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
TOKENS_ISSUED = Counter("identity_tokens_issued_total", "Tokens signed", ["kind"])
SHARED_DEGRADED = Gauge(
    "identity_shared_state_degraded",
    "1 while Redis is configured but unreachable and the database fallback is used",
    multiprocess_mode="max",
)
