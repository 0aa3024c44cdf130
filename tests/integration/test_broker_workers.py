"""Single flight across real worker processes: `identity serve`, 2 workers × 8 threads."""

from __future__ import annotations

import httpx
import pytest

from identity.devtools.mock_infobip import MockInfobip
from tests.broker_helpers import concurrently
from tests.integration.conftest import prepare
from tests.integration.test_serve import free_port, start_server, wait_ready

pytestmark = pytest.mark.slow


def test_50_readers_on_two_server_workers_make_one_upstream_call(env: dict[str, str]) -> None:
    """Two worker processes, 50 concurrent cold reads: one login, one token for everybody."""
    with MockInfobip(latency=0.5) as mock:
        token = prepare(env, mock.base_url)
        port = free_port()
        proc = start_server(env, port, "--threads", "8")
        try:
            base = f"http://127.0.0.1:{port}"
            wait_ready(f"{base}/healthz", proc)
            url = f"{base}/upstream/connections/sms/authorization"
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(timeout=30) as client:
                answers = concurrently(50, lambda i: client.get(url, headers=headers))
        finally:
            proc.terminate()
            proc.communicate(timeout=30)
        assert {r.status_code for r in answers} == {200}
        assert len({r.json()["authorization"] for r in answers}) == 1
        assert mock.calls["POST /auth/1/session"] == 1
