"""Hostile input from the OpenAPI document (schemathesis): no 500, every response documented.

A bounded run here (``FUZZ_EXAMPLES`` per operation, default 15); ``make fuzz`` runs longer.
Operations that configure an upstream or call one are excluded (fuzzed base URLs must never
become network traffic); the broker's read and invalidate are fuzzed: no connection exists
here, so they never reach one.
"""

from __future__ import annotations

import os
import re
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import access_token, api_key

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
ALL_SCOPES = "admin profile:read inbox:issue upstream:read"


EXCLUDED = re.compile(r"^/(admin/upstream|exchange/(connect|callback))")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def operations(app: Flask) -> list[Any]:
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    found = [result.ok() for result in schema.get_all_operations()]
    return [op for op in found if not EXCLUDED.match(op.path)]


@pytest.mark.slow
def test_no_server_errors_and_documented_responses(app: Flask) -> None:
    """Every generated request gets a documented, non-5xx answer of the documented shape."""
    headers = {
        "Authorization": f"Bearer {access_token(app, ALL_SCOPES)}",
        "X-API-Key": api_key(app, ALL_SCOPES),
    }
    failures: list[str] = []
    ops = operations(app)
    assert "/upstream/connections/{name}/authorization" in {op.path for op in ops}
    for operation in ops:

        @given(operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def run(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:2000])
    assert not failures, "\n\n".join(failures)
