"""``identity api-keys create|list|revoke``."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from identity import limits
from identity.cli import emit
from identity.extensions import services


@click.group("api-keys")
def api_keys_group() -> None:
    """Manage API keys (App / X-API-Key credentials)."""


@api_keys_group.command("create")
@click.option("--name", required=True, help="Who the key is for, for people.")
@click.option("--scope", default="", help='Scopes, space separated, e.g. "profile:read".')
@click.option("--expires-in", type=int, help=f"Until expiry, {limits.API_KEY_EXPIRES_IN.rule()}.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@with_appcontext
def create(name: str, scope: str, expires_in: int | None, as_json: bool) -> None:
    """Create an API key; it is printed once, here."""
    created = services().api_keys.create(name, scope, expires_in)
    expires = created.expires_at.isoformat() if created.expires_at else None
    payload = {"id": created.id, "key": created.key, "scope": created.scope, "expires_at": expires}
    emit(payload, as_json, f"id: {created.id}\nkey: {created.key}\n(the key is shown only once)")


@api_keys_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def list_keys(as_json: bool) -> None:
    """Show every API key (never the key itself)."""

    def iso(value: object) -> str | None:
        return value.isoformat() if value is not None else None  # type: ignore[attr-defined]

    rows = [
        {
            "id": row.id,
            "name": row.name,
            "scope": row.scope,
            "expires_at": iso(row.expires_at),
            "revoked_at": iso(row.revoked_at),
            "last_used_at": iso(row.last_used_at),
        }
        for row in services().api_keys.list()
    ]
    human = "\n".join(
        f"{r['id']}  {'revoked' if r['revoked_at'] else 'active '}  {r['name']}  [{r['scope']}]"
        for r in rows
    )
    emit({"api_keys": rows}, as_json, human or "no API keys")


@api_keys_group.command("revoke")
@click.argument("key_id")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def revoke(key_id: str, as_json: bool) -> None:
    """Revoke an API key: refused from the next request on."""
    row = services().api_keys.revoke(key_id)
    revoked_at = row.revoked_at.isoformat() if row.revoked_at is not None else None
    emit({"id": row.id, "revoked_at": revoked_at}, as_json, f"revoked {key_id}")


commands = [api_keys_group]
