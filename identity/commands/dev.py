"""``identity mock-infobip``: a local mock of Infobip's auth endpoints for development."""

from __future__ import annotations

import sys

import click


@click.command("mock-infobip")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=9090, show_default=True, type=int)
@click.option("--lifetime", default=3600, show_default=True, type=int, help="Token lifetime, s.")
@click.option("--latency", default=0.0, show_default=True, type=float, help="Delay per call, s.")
@click.option(
    "--failure",
    type=click.Choice(["500", "timeout", "garbage", "401"]),
    default=None,
    help="Make every auth call fail this way.",
)
@click.option("--username", default="user", show_default=True)
@click.option("--client-id", default="client", show_default=True)
@click.option(
    "--secret-stdin",
    is_flag=True,
    help="Read the accepted password / client secret from stdin (default: pass / secret).",
)
def mock_infobip(
    host: str,
    port: int,
    lifetime: int,
    latency: float,
    failure: str | None,
    username: str,
    client_id: str,
    secret_stdin: bool,
) -> None:
    """Serve /auth/1/session, /auth/1/oauth2/token and the Exchange OAuth endpoints."""
    from werkzeug.serving import run_simple

    from identity.devtools.mock_infobip import create_mock_app

    knobs: dict[str, object] = {
        "lifetime": lifetime,
        "latency": latency,
        "failure": failure,
        "username": username,
        "client_id": client_id,
    }
    if secret_stdin:
        secret = sys.stdin.readline().strip()
        knobs.update(password=secret, client_secret=secret)
    app = create_mock_app(**knobs)
    click.echo(f"mock Infobip on http://{host}:{port}", err=True)
    run_simple(host, port, app, threaded=True)


commands = [mock_infobip]
