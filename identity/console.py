"""The ``identity`` console script: the command tree of ``identity.cli`` over ``create_app``.

Kept apart from ``identity.cli`` so that the factory and the command tree do not import each
other (``create_app`` registers the tree on ``app.cli``; this module builds apps for it).
Imports stay inside functions: ``identity serve``'s supervisor (and granian's workers, which
re-import this module as their ``__main__``) must not pay for Flask and the command tree.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from identity.errors import ConfigError, IdentityError

if TYPE_CHECKING:
    from flask import Flask


def _create_app() -> Flask:
    from identity.app import create_app

    return create_app()


def main() -> None:
    """Console script entry point: ``identity <command>``."""
    command = sys.argv[1:2]
    if command == ["config-doc"]:  # documentation only: needs no app, secrets or database
        from identity.config import config_table

        click.echo(config_table())
    elif command == ["serve"]:  # the supervisor: click and granian, never the app
        from identity.commands.serve import serve_command

        _reporting(lambda: serve_command.main(sys.argv[2:], prog_name="identity serve"))
    else:
        _reporting(_run_cli)


def _run_cli() -> None:
    from flask.cli import ScriptInfo

    from identity.cli import build_cli

    # with_appcontext finds the app through ScriptInfo; .env loading and debug stay off.
    script_info = ScriptInfo(
        create_app=_create_app, set_debug_flag=False, load_dotenv_defaults=False
    )
    if sys.argv[1:2] == ["init"]:
        from identity.config import SECRETS_FILE, ensure_secrets_file

        created = ensure_secrets_file(SECRETS_FILE)
        if created:
            click.echo(f"generated {', '.join(created)} into {SECRETS_FILE.resolve()}", err=True)
    with _database_errors():
        build_cli().main(prog_name="identity", obj=script_info)


def check() -> None:
    """``identity serve``'s start-up checks, run in a child process (``commands.serve``)."""

    def run() -> None:
        from identity.setup import check_startup

        with _database_errors():
            check_startup(_create_app())

    _reporting(run)


def _reporting(run: Callable[[], None]) -> None:
    """Run ``run``; a known failure is one line on stderr and exit code 2 (config) or 1."""
    try:
        run()
    except ConfigError as exc:
        click.echo(f"identity: {exc}", err=True)
        sys.exit(2)
    except IdentityError as exc:
        click.echo(f"identity: {exc.one_line()}", err=True)
        sys.exit(1)


@contextmanager
def _database_errors() -> Iterator[None]:
    """A database that cannot be used is a configuration error naming ``DATABASE_URL``."""
    from sqlalchemy.exc import OperationalError

    try:
        yield
    except OperationalError as exc:
        reason = (
            "not initialised (run `identity init`)"
            if "no such table" in str(exc)
            else "unreachable or refused the connection"
        )
        raise ConfigError("DATABASE_URL", f"database {reason}") from None
