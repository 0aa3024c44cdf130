"""``identity audit list``."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import with_appcontext

from identity.cli import emit, fail
from identity.extensions import services
from identity.services.audit import MAX_LIMIT, event_dict


@click.group("audit")
def audit_group() -> None:
    """Read the audit log (changes made through the admin API or the CLI, refusals)."""


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        fail(f"--since: {value!r} is not an RFC 3339 date-time (e.g. 2026-01-31T12:00:00Z)")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@audit_group.command("list")
@click.option("--since", help="RFC 3339 date-time: events at or after it.")
@click.option("--action", help="Only this action, e.g. client.rotate_secret.")
@click.option("--target", help="Only this target, e.g. client:<client_id>.")
@click.option("--limit", type=click.IntRange(1, MAX_LIMIT), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help='One JSON object: {"events": [...]}.')
@with_appcontext
def list_events(
    since: str | None, action: str | None, target: str | None, limit: int, as_json: bool
) -> None:
    """Audit events, newest first."""
    rows, cursor = services().audit.list(_since(since), action, target, limit)
    events = [event_dict(row) for row in rows]
    human = "\n".join(
        f"{e['at']}  {e['actor']}  {e['action']}  {e['target']}  {e['outcome']}"
        + (f"  x{e['count']}" if e["count"] > 1 else "")
        for e in events
    )
    emit({"events": events, "next_cursor": cursor}, as_json, human or "no events")


commands = [audit_group]
