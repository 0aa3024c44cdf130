"""Prometheus metrics of the broker (``identity_upstream_*``); they show on ``/metrics``."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

UPSTREAM_CALLS = Counter(
    "identity_upstream_calls_total",
    "Calls made to upstreams, by connection, endpoint and outcome",
    ["connection", "call", "outcome"],
)
CACHE = Counter(
    "identity_upstream_cache_total",
    "Token reads by cache level and result (local/shared hit, miss, stale served)",
    ["level", "result"],
)
REFRESH_AHEAD = Counter(
    "identity_upstream_refresh_ahead_total",
    "Tokens refreshed before they expired",
    ["connection"],
)
TIME_TO_TOKEN = Histogram(
    "identity_upstream_time_to_token_seconds",
    "Time from a cache miss to a token (upstream call and waiting for another's call)",
    ["connection"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
