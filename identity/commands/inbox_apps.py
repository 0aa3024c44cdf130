"""``identity inbox-apps add|list|show|replace-key|remove`` (docs/cli.md).

Key material comes from ``--key-file`` or ``--key-stdin`` (PEM, PEM with escaped ``\\n``, base64
of the PEM, or a shared secret); it is sealed at rest and never printed.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from identity.cli import emit, fail
from identity.crypto.inbox_formats import VENDORS
from identity.errors import BadRequest
from identity.extensions import services
from identity.services.inbox_apps import InboxApps, NewInboxApp, ResolvedApp


def _apps() -> InboxApps:
    return services().inbox_apps


@contextmanager
def _explained() -> Iterator[None]:
    """A refused app or key: one line per field, saying what was expected (exit status 1)."""
    try:
        yield
    except BadRequest as exc:
        details = "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in exc.validation_errors.items()
        )
        fail(f"{exc.text}: {details}" if details else exc.text)


def _read_key(key_file: Path | None, key_stdin: bool) -> bytes:
    if bool(key_file) == key_stdin:
        fail("give exactly one of --key-file F or --key-stdin")
    return key_file.read_bytes() if key_file else sys.stdin.buffer.read()


def _line(app: ResolvedApp) -> str:
    key = "own key ring" if app.own_key else app.key_description
    flags = ", default" if app.default else ""
    flags += ", implicit (IDENTITY_INBOX_API_KEY)" if app.implicit else ""
    return f"{app.name}  {app.vendor.name:<10} {key}{flags}"


@click.group("inbox-apps")
def inbox_apps_group() -> None:
    """Manage inbox apps: vendor token formats and the vendor keys they sign with."""


KEY_FILE = click.option(
    "--key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The vendor's private key (PEM or base64 of it) or shared secret.",
)
KEY_STDIN = click.option("--key-stdin", is_flag=True, help="Read the key material from stdin.")
AS_JSON = click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")


@inbox_apps_group.command("add")
@click.option("--name", required=True, help='App name clients pass as "app".')
@click.option("--vendor", required=True, type=click.Choice(list(VENDORS)))
@click.option("--api-key", default=None, help="The vendor app's API key (engagespot, magicbell).")
@KEY_FILE
@KEY_STDIN
@click.option("--own-key", is_flag=True, help="Sign with our key ring (/inbox/public-key.pem).")
@click.option("--lifetime", type=int, default=None, help="Token lifetime (s).")
@click.option("--default", "default", is_flag=True, help="Answer requests that name no app.")
@AS_JSON
@with_appcontext
def add(
    key_file: Path | None, key_stdin: bool, own_key: bool, as_json: bool, **options: Any
) -> None:
    """Add an app; its key is validated, sealed at rest and never shown again."""
    if own_key and (key_file or key_stdin):
        fail("give --own-key or a key, not both")
    key = None if own_key else _read_key(key_file, key_stdin)
    with _explained():
        app = _apps().add(NewInboxApp(key=key, own_key=own_key, **options))
    payload = {"name": app.name, "vendor": app.vendor.name, "default": app.default}
    emit(payload, as_json, f"added {_line(app)}")


@inbox_apps_group.command("list")
@AS_JSON
@with_appcontext
def list_apps(as_json: bool) -> None:
    """Show every app (never a key)."""
    apps = _apps().list()
    legacy = _apps().legacy()
    apps += [legacy] if legacy and all(a.name != legacy.name for a in apps) else []
    human = "\n".join(_line(a) for a in apps)
    emit({"apps": [a.public() for a in apps]}, as_json, human or "no inbox apps")


@inbox_apps_group.command("show")
@click.argument("name")
@AS_JSON
@with_appcontext
def show(name: str, as_json: bool) -> None:
    """Show one app (never its key)."""
    app = _apps().get(name)
    human = "\n".join(f"{k}: {v}" for k, v in app.public().items())
    emit(app.public(), as_json, human)


@inbox_apps_group.command("replace-key")
@click.argument("name")
@KEY_FILE
@KEY_STDIN
@AS_JSON
@with_appcontext
def replace_key(name: str, key_file: Path | None, key_stdin: bool, as_json: bool) -> None:
    """Swap NAME's key at once (vendors keep no old public key: there is no overlap)."""
    with _explained():
        app = _apps().replace_key(name, _read_key(key_file, key_stdin))
    note = (
        "tokens are signed with the new key from now on; tokens signed with the old key "
        "stop verifying once the vendor holds the new public key"
    )
    payload = {"name": app.name, "vendor": app.vendor.name, "key": app.key_description}
    emit(
        {**payload, "replaced": True, "note": note}, as_json, f"replaced the key of {name}: {note}"
    )


@inbox_apps_group.command("remove")
@click.argument("name")
@AS_JSON
@with_appcontext
def remove(name: str, as_json: bool) -> None:
    """Remove an app and its key."""
    _apps().remove(name)
    emit({"removed": name}, as_json, f"removed {name}")


commands = [inbox_apps_group]
