"""``identity upstream add|list|remove|test|invalidate|reencrypt``."""

from __future__ import annotations

import sys
from typing import Any

import click
from flask.cli import with_appcontext

from identity import limits
from identity.broker.model import METHODS
from identity.cli import emit, fail
from identity.extensions import services
from identity.services.upstream import REQUIRED, NewConnection, rfc3339

SECRET_KIND = {
    "ibsso": "the password",
    "basic": "the password",
    "oauth2": "the client secret",
    "api_key": "the API key",
}


def _service() -> Any:
    return services().upstream


@click.group("upstream")
def upstream_group() -> None:
    """Manage upstream connections the broker holds tokens for."""


@upstream_group.command("add")
@click.option("--name", required=True, help="Connection name used in the URL.")
@click.option("--base-url", required=True, help="e.g. https://xxxxx.api.infobip.com")
@click.option("--method", required=True, type=click.Choice(METHODS))
@click.option("--username", default=None, help="ibsso / basic user name.")
@click.option("--client-id", default=None, help="oauth2 client id.")
@click.option("--account-key", default=None, help="exchange account key.")
@click.option("--secret-stdin", is_flag=True, help="Read the password / secret / API key.")
@click.option("--lifetime", type=int, help=f"Token lifetime, {limits.UPSTREAM_LIFETIME.rule()}.")
@click.option("--connect-timeout", type=float, help=limits.UPSTREAM_TIMEOUT.rule())
@click.option("--read-timeout", type=float, help=limits.UPSTREAM_TIMEOUT.rule())
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@with_appcontext
def add(secret_stdin: bool, as_json: bool, **options: Any) -> None:
    """Create a connection; the secret is read from stdin and sealed at rest."""
    method = options["method"]
    if not secret_stdin and "secret" in REQUIRED.get(method, ()):
        fail(
            f"method {method} needs a secret ({SECRET_KIND.get(method, 'secret')}); give it on "
            f"stdin with --secret-stdin, e.g. printf '%s' \"$SECRET\" | identity upstream add "
            "... --secret-stdin"
        )
    secret = sys.stdin.readline().rstrip("\r\n") if secret_stdin else None
    row = _service().add(NewConnection(secret=secret or None, **options))
    emit({"name": row.name, "method": row.method}, as_json, f"added {row.name} ({row.method})")


@upstream_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def list_connections(as_json: bool) -> None:
    """Show every connection (never a secret)."""
    rows = [
        {
            "name": row.name,
            "method": row.method,
            "base_url": row.base_url,
            "username": row.username,
            "client_id": row.client_id,
            "account_key": row.account_key,
            "lifetime": row.lifetime,
            "has_secret": bool(row.secret_sealed),
        }
        for row in _service().list()
    ]
    human = "\n".join(f"{r['name']}  {r['method']:<8} {r['base_url']}" for r in rows)
    emit({"connections": rows}, as_json, human or "no connections")


@upstream_group.command("remove")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def remove(name: str, as_json: bool) -> None:
    """Remove a connection and its cached token."""
    _service().remove(name)
    emit({"removed": name}, as_json, f"removed {name}")


@upstream_group.command("test")
@click.argument("name")
@click.option("--fresh", is_flag=True, help="Invalidate the cached token first (logs in again).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def test(name: str, fresh: bool, as_json: bool) -> None:
    """Get a token for NAME through the broker; prints its type and expiry, never the token."""
    if fresh:
        _service().invalidate(name)
    try:
        token = _service().authorization(name)
    finally:
        services().broker.close()
    payload = {"name": name, "ok": True, "token_type": token.token_type}
    payload["expires_at"] = rfc3339(token.expires_at)
    emit(payload, as_json, f"{name}: ok, {token.token_type} token, expires {payload['expires_at']}")


@upstream_group.command("invalidate")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def invalidate(name: str, as_json: bool) -> None:
    """Drop the cached token of NAME; the next read logs in again."""
    _service().invalidate(name)
    emit({"invalidated": name}, as_json, f"invalidated {name}")


@upstream_group.command("reencrypt")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def reencrypt(as_json: bool) -> None:
    """Re-seal stored credentials and cached tokens under the newest IDENTITY_ENCRYPTION_KEYS."""
    count = _service().reencrypt()
    emit({"connections": count}, as_json, f"re-encrypted {count} connection(s)")


commands = [upstream_group]
