"""The ``identity`` console script: the command tree of ``identity.cli`` over ``create_app``.

Kept apart from ``identity.cli`` so that the factory and the command tree do not import each
other (``create_app`` registers the tree on ``app.cli``; this module builds apps for it).
"""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import ScriptInfo
from sqlalchemy.exc import OperationalError

from identity.cli import build_cli, error_line
from identity.errors import ConfigError, IdentityError


def _create_app() -> Flask:
    from identity.app import create_app

    return create_app()


def main() -> None:
    """Console script entry point: ``identity <command>``."""
    cli = build_cli()
    # with_appcontext finds the app through ScriptInfo; .env loading and debug stay off.
    script_info = ScriptInfo(
        create_app=_create_app, set_debug_flag=False, load_dotenv_defaults=False
    )
    if sys.argv[1:2] == ["config-doc"]:  # documentation only: needs no app, secrets or database
        from identity.config import config_table

        click.echo(config_table())
        return
    try:
        if sys.argv[1:2] == ["init"]:
            from identity.config import ensure_secrets_file

            created = ensure_secrets_file()
            if created:
                click.echo(f"generated {', '.join(created)} into instance/secrets.env", err=True)
        cli.main(prog_name="identity", obj=script_info)
    except ConfigError as exc:
        click.echo(f"identity: {exc}", err=True)
        sys.exit(2)
    except IdentityError as exc:
        click.echo(f"identity: {error_line(exc)}", err=True)
        sys.exit(1)
    except OperationalError as exc:
        reason = (
            "not initialised (run `identity init`)"
            if "no such table" in str(exc)
            else ("unreachable or refused the connection")
        )
        click.echo(f"identity: DATABASE_URL: database {reason}", err=True)
        sys.exit(2)
