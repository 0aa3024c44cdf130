"""``identity apis add|list|show|update|remove``: APIs (resource servers) our tokens are for."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from identity import limits
from identity.cli import emit
from identity.crypto.keys import ALGORITHMS, RS256
from identity.extensions import services
from identity.services.apis import DEFAULT_LIFETIME, Api

AS_JSON = click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
LIFETIME = f"Token lifetime, {limits.API_LIFETIME.rule()}"


def _line(api: Api) -> str:
    return f"{api.name}  {api.audience}  {api.alg}  {api.lifetime}s  [{' '.join(api.scopes)}]" + (
        "  (built-in)" if api.builtin else ""
    )


@click.group("apis")
def apis_group() -> None:
    """Manage APIs: the audience, scopes, lifetime and algorithm of their access tokens."""


@apis_group.command("add")
@click.option("--name", required=True, help="Short name, e.g. orders.")
@click.option("--audience", required=True, help="Absolute URI, e.g. https://orders.example.com.")
@click.option("--scope", required=True, help='The scope names it defines, e.g. "orders:read".')
@click.option("--lifetime", type=int, default=DEFAULT_LIFETIME, show_default=True, help=LIFETIME)
@click.option("--alg", type=click.Choice(ALGORITHMS), default=RS256, show_default=True)
@AS_JSON
@with_appcontext
def add(name: str, audience: str, scope: str, lifetime: int, alg: str, as_json: bool) -> None:
    """Add an API (an ES256 API gives the key ring its first EC P-256 key)."""
    api = services().apis.add(name, audience, scope.split(), lifetime, alg)
    emit(api.public(), as_json, f"added {_line(api)}")


@apis_group.command("list")
@AS_JSON
@with_appcontext
def list_apis(as_json: bool) -> None:
    """Show every API, the built-in one first."""
    apis = services().apis.list()
    emit({"apis": [a.public() for a in apis]}, as_json, "\n".join(_line(a) for a in apis))


@apis_group.command("show")
@click.argument("name")
@AS_JSON
@with_appcontext
def show(name: str, as_json: bool) -> None:
    """Show one API."""
    api = services().apis.get(name)
    emit(api.public(), as_json, _line(api))


@apis_group.command("update")
@click.argument("name")
@click.option("--scope", default=None, help="The full new list of scope names.")
@click.option("--lifetime", type=int, default=None, help=LIFETIME)
@AS_JSON
@with_appcontext
def update(name: str, scope: str | None, lifetime: int | None, as_json: bool) -> None:
    """Change an API's scopes and/or lifetime (a removed scope is removed from every grant)."""
    scopes = scope.split() if scope is not None else None
    api = services().apis.update(name, scopes, lifetime)
    emit(api.public(), as_json, f"updated {_line(api)}")


@apis_group.command("remove")
@click.argument("name")
@AS_JSON
@with_appcontext
def remove(name: str, as_json: bool) -> None:
    """Remove an API and every grant on it (the built-in API cannot be removed)."""
    services().apis.remove(name)
    emit({"name": name, "removed": True}, as_json, f"removed {name}")


commands = [apis_group]
