"""``identity users create|disable|list``: customer accounts from the command line."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from identity.cli import emit, fail
from identity.errors import IdentityError
from identity.extensions import services
from identity.services.customers import CustomerService


def _customers() -> CustomerService:
    return services().customers


@click.group("users")
def users_group() -> None:
    """Manage customer accounts."""


@users_group.command("create")
@click.option("--username", required=True, help="Login name (stored NFKC + case-folded).")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@click.option("--email", default=None)
@click.option("--name", default=None)
@click.option("--phone", default=None)
@click.option("--locale", default=None)
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@with_appcontext
def create(
    username: str,
    password_stdin: bool,
    email: str | None,
    name: str | None,
    phone: str | None,
    locale: str | None,
    as_json: bool,
) -> None:
    """Create an account; prints its id, normalised username and customer ID."""
    if not password_stdin:
        fail("pass the password on stdin with --password-stdin")
    password = sys.stdin.readline().rstrip("\r\n")
    profile = {"email": email, "name": name, "phone": phone, "locale": locale}
    try:
        customer = _customers().create(username, password, **profile)
    except IdentityError as exc:
        fail(exc.text)
    payload = {
        "id": customer.id,
        "username": customer.username,
        "customer_id": customer.customer_id,
    }
    emit(payload, as_json, f"created {customer.username} ({customer.customer_id})")


@users_group.command("disable")
@click.argument("username")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def disable(username: str, as_json: bool) -> None:
    """Refuse this account's logins and end its sessions."""
    customers = _customers()
    customer = customers.by_username(username)
    if customer is None:
        fail(f"no such user: {username}")
    customers.disable(customer)
    emit(
        {"username": customer.username, "customer_id": customer.customer_id, "disabled": True},
        as_json,
        f"disabled {customer.username}",
    )


@users_group.command("list")
@click.option("--limit", type=click.IntRange(1), default=1000, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def list_users(limit: int, offset: int, as_json: bool) -> None:
    """Show accounts, oldest first."""
    rows = [
        {
            "id": c.id,
            "username": c.username,
            "customer_id": c.customer_id,
            "disabled": c.disabled,
            "created_at": c.created_at.isoformat(),
        }
        for c in _customers().listing(limit, offset)
    ]
    human = "\n".join(
        f"{r['customer_id']}  {'disabled' if r['disabled'] else 'active  '}  {r['username']}"
        for r in rows
    )
    emit({"users": rows}, as_json, human or "no users")


commands = [users_group]
