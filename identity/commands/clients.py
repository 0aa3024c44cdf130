"""``identity clients create|list|show|grant|rotate-secret|disable|enable``."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from identity import limits
from identity.cli import emit, fail
from identity.extensions import services
from identity.scopes import BUILTIN_API
from identity.services.clients import (
    PRIVATE_KEY_JWT,
    SECRET,
    ClientAuth,
    rotated_view,
)


@click.group("clients")
def clients_group() -> None:
    """Manage OAuth clients (client credentials)."""


def _auth(method: str, jwks_file: Path | None, jwks_uri: str | None) -> ClientAuth:
    if method == SECRET and (jwks_file or jwks_uri):
        fail("--jwks-file and --jwks-uri go with --auth private_key_jwt")
    if method == PRIVATE_KEY_JWT and bool(jwks_file) == bool(jwks_uri):
        fail("--auth private_key_jwt needs exactly one of --jwks-file F or --jwks-uri URL")
    try:
        jwks = jwks_file.read_text("utf-8") if jwks_file else None
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"--jwks-file: cannot read {jwks_file}: {type(exc).__name__}")
    return ClientAuth(method, jwks, jwks_uri)


@clients_group.command("create")
@click.option("--name", required=True, help="Who the client is, for people.")
@click.option("--scope", default="", help='Allowed scopes, space separated, e.g. "admin".')
@click.option("--api", default=BUILTIN_API, show_default=True, help="The API the scopes are on.")
@click.option(
    "--lifetime", type=int, help=f"Cap on its tokens' lifetime, {limits.CLIENT_LIFETIME.rule()}."
)
@click.option(
    "--auth",
    "method",
    type=click.Choice([SECRET, PRIVATE_KEY_JWT]),
    default=SECRET,
    show_default=True,
    help="How the client authenticates: a secret (basic or post), or signed assertions.",
)
@click.option(
    "--jwks-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The client's public JWK Set (private_key_jwt).",
)
@click.option("--jwks-uri", help="https URL of the client's public JWK Set (private_key_jwt).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@with_appcontext
def create(
    name: str,
    scope: str,
    api: str,
    lifetime: int | None,
    method: str,
    jwks_file: Path | None,
    jwks_uri: str | None,
    as_json: bool,
) -> None:
    """Create a client holding --scope on --api; its secret (if any) is printed once, here."""
    auth = _auth(method, jwks_file, jwks_uri)
    created = services().clients.create(name, scope, lifetime, api, auth=auth)
    payload = {"client_id": created.client_id, "scope": created.scope}
    human = f"client_id: {created.client_id}\nscope: {created.scope}\nauth: {method}"
    if created.client_secret is not None:
        payload["client_secret"] = created.client_secret
        human += f"\nclient_secret: {created.client_secret}\n(the secret is shown only once)"
    emit(payload, as_json, human)


@clients_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def list_clients(as_json: bool) -> None:
    """Show every client (never a secret), with the scopes it holds on each API."""
    clients = services().clients
    rows = [clients.view(row) for row in clients.list()]
    human = "\n".join(
        f"{r['client_id']}  {'enabled ' if r['enabled'] else 'disabled'}  {r['name']}  "
        + "  ".join(f"{api}: [{scope}]" for api, scope in r["grants"].items())
        + f"  {r['auth_method']}"
        for r in rows
    )
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


@clients_group.command("show")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def show(client_id: str, as_json: bool) -> None:
    """One client: scopes, state, how it authenticates (never a secret)."""
    view = services().clients.view(services().clients.row(client_id))
    human = "\n".join(f"{key}: {value}" for key, value in view.items() if key != "jwks")
    emit(view, as_json, human)


@clients_group.command("rotate-secret")
@click.argument("client_id")
@click.option(
    "--keep-old-for",
    type=int,
    default=0,
    show_default=True,
    help=f"Seconds the old secret keeps working, {limits.SECRET_OVERLAP.rule()} (30 days).",
)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def rotate_secret(client_id: str, keep_old_for: int, as_json: bool) -> None:
    """Replace a client's secret; the old one works until old_secret_expires_at."""
    payload = rotated_view(services().clients.rotate_secret(client_id, keep_old_for))
    ends = payload["old_secret_expires_at"] or "now (ended at once)"
    emit(
        payload,
        as_json,
        f"client_secret: {payload['client_secret']}\n(shown only once)\nold secret ends: {ends}",
    )


@clients_group.command("disable")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def disable(client_id: str, as_json: bool) -> None:
    """Refuse new tokens to a client."""
    row = services().clients.disable(client_id)
    emit({"client_id": row.client_id, "enabled": row.enabled}, as_json, f"disabled {client_id}")


@clients_group.command("enable")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def enable(client_id: str, as_json: bool) -> None:
    """Accept a disabled client again (same secret or keys)."""
    row = services().clients.enable(client_id)
    emit({"client_id": row.client_id, "enabled": row.enabled}, as_json, f"enabled {client_id}")


commands = [clients_group]
