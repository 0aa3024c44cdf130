"""``identity clients create|list|grant|rotate-secret|disable``."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from identity import limits
from identity.cli import emit
from identity.extensions import services
from identity.scopes import BUILTIN_API


@click.group("clients")
def clients_group() -> None:
    """Manage OAuth clients (client credentials)."""


@clients_group.command("create")
@click.option("--name", required=True, help="Who the client is, for people.")
@click.option("--scope", default="", help='Allowed scopes, space separated, e.g. "admin".')
@click.option("--api", default=BUILTIN_API, show_default=True, help="The API the scopes are on.")
@click.option(
    "--lifetime", type=int, help=f"Cap on its tokens' lifetime, {limits.CLIENT_LIFETIME.rule()}."
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@with_appcontext
def create(name: str, scope: str, api: str, lifetime: int | None, as_json: bool) -> None:
    """Create a client holding --scope on --api; its secret is printed once, here."""
    created = services().clients.create(name, scope, lifetime, api)
    payload = {
        "client_id": created.client_id,
        "client_secret": created.client_secret,
        "scope": created.scope,
    }
    emit(
        payload,
        as_json,
        f"client_id: {created.client_id}\nclient_secret: {created.client_secret}\n"
        f"scope: {created.scope}\n(the secret is shown only once)",
    )


@clients_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def list_clients(as_json: bool) -> None:
    """Show every client (never a secret), with the scopes it holds on each API."""
    clients = services().clients
    rows, lines = [], []
    for row in clients.list():
        grants = clients.grants(row)
        rows.append(
            {
                "client_id": row.client_id,
                "name": row.name,
                "scope": grants.get(BUILTIN_API, ""),
                "grants": grants,
                "lifetime": row.token_lifetime,
                "enabled": row.enabled,
                "created_at": row.created_at.isoformat(),
            }
        )
        held = "  ".join(f"{api}: [{scope}]" for api, scope in grants.items())
        lines.append(
            f"{row.client_id}  {'enabled ' if row.enabled else 'disabled'}  {row.name}  {held}"
        )
    human = "\n".join(lines)
    emit({"clients": rows}, as_json, human or "no clients")


@clients_group.command("grant")
@click.argument("client_id")
@click.option("--api", required=True, help="The API, by name.")
@click.option("--scope", required=True, help='Its scopes the client holds; "" removes the grant.')
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def grant(client_id: str, api: str, scope: str, as_json: bool) -> None:
    """Set the scopes a client holds on an API."""
    granted = services().clients.grant(client_id, api, scope)
    human = f"{client_id} on {api}: [{granted.scope}]" if granted.scope else "grant removed"
    emit({"client_id": client_id, "api": api, "scope": granted.scope}, as_json, human)


@clients_group.command("rotate-secret")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def rotate_secret(client_id: str, as_json: bool) -> None:
    """Replace a client's secret; the old one is refused from now on."""
    rotated = services().clients.rotate_secret(client_id)
    payload = {"client_id": rotated.client_id, "client_secret": rotated.client_secret}
    emit(payload, as_json, f"client_secret: {rotated.client_secret}\n(shown only once)")


@clients_group.command("disable")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def disable(client_id: str, as_json: bool) -> None:
    """Refuse new tokens to a client."""
    row = services().clients.disable(client_id)
    emit({"client_id": row.client_id, "enabled": row.enabled}, as_json, f"disabled {client_id}")


commands = [clients_group]
