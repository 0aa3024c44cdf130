"""``identity keys list|rotate|promote|retire``."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from identity import limits
from identity.cli import emit
from identity.crypto.keys import ALGORITHMS, RS256
from identity.extensions import services

ALG = click.option(
    "--alg",
    type=click.Choice(ALGORITHMS),
    default=RS256,
    show_default=True,
    help="Which key sequence: RS256 (RSA) or ES256 (EC P-256).",
)


@click.group("keys")
def keys_group() -> None:
    """Manage the signing key ring."""


@keys_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@with_appcontext
def list_keys(as_json: bool) -> None:
    """Show every key (RS256 and ES256) with its state."""
    rows = [
        {
            "kid": s.record.kid,
            "alg": s.record.alg,
            "state": s.state,
            "activates_at": s.record.activates_at.isoformat(),
            "remove_after": s.remove_after.isoformat() if s.remove_after else None,
        }
        for s in services().keys.states()
    ]
    human = "\n".join(
        f"{r['kid']}  {r['alg']}  {r['state']:<8} activates {r['activates_at']}" for r in rows
    )
    emit({"keys": rows}, as_json, human or "no keys")


@keys_group.command("rotate")
@click.option(
    "--promote-after",
    type=int,
    default=None,
    help="Delay before the new key signs, "
    f"{limits.KEY_PROMOTE_AFTER.rule()} (default IDENTITY_KEY_PROMOTE_AFTER).",
)
@ALG
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def rotate(promote_after: int | None, alg: str, as_json: bool) -> None:
    """Pre-publish a new key in JWKS; it becomes active after the delay."""
    delay = services().settings.key_promote_after if promote_after is None else promote_after
    kid = services().keys.rotate(delay, alg)
    emit(
        {"kid": kid, "alg": alg, "promote_after": delay},
        as_json,
        f"published {alg} key {kid}; signs in {delay}s",
    )


@keys_group.command("promote")
@ALG
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def promote(alg: str, as_json: bool) -> None:
    """Make the pre-published key of an algorithm active now."""
    kid = services().keys.promote(alg)
    emit({"kid": kid}, as_json, f"{kid} is now active")


@keys_group.command("retire")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def retire(as_json: bool) -> None:
    """Delete retired keys whose tokens have all expired."""
    kids = services().keys.retire()
    emit({"removed": kids}, as_json, f"removed {len(kids)} key(s)")


commands = [keys_group]
