"""The ``identity`` command line: a Flask CLI group (``flask --app wsgi identity ...`` works too).

Commands that create something accept ``--json`` and then print exactly one JSON object on
stdout; secrets appear only there, once. Secrets are read from stdin, never from arguments.
"""

from __future__ import annotations

import copy
import importlib
import json
import os
from typing import Any, NoReturn

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from identity import DISTRIBUTION


class _AreaGroup(AppGroup):
    """Loads the area commands when a command line first needs them, not in every worker."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        _load_area_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        _load_area_commands()
        return super().get_command(ctx, cmd_name)


def _audit_as_cli() -> None:
    """Changes made by this command are audited as made by ``cli`` (one id per invocation)."""
    from identity.services.audit import acting_as

    click.get_current_context().with_resource(acting_as("cli", f"cli-{os.urandom(8).hex()}"))


identity_group = _AreaGroup("identity", help="Manage the identity service.", callback=_audit_as_cli)

# Area modules: each exposes ``commands`` (a list of click commands/groups).
COMMAND_MODULES = (
    "identity.commands.keys",
    "identity.commands.users",
    "identity.commands.clients",
    "identity.commands.apis",
    "identity.commands.api_keys",
    "identity.commands.upstream",
    "identity.commands.inbox_apps",
    "identity.commands.dev",
    "identity.commands.serve",
    "identity.commands.audit",
)


def emit(payload: dict[str, Any], as_json: bool, human: str) -> None:
    """Print one JSON object (``--json``) or a human line."""
    click.echo(json.dumps(payload) if as_json else human)


def fail(message: str) -> NoReturn:
    raise click.ClickException(message)


@identity_group.command("init")
@with_appcontext
def init_command() -> None:
    """Migrate the database and create the key ring if empty. Safe to run again."""
    from identity.setup import initialise

    for line in initialise(dev_inbox_app=True):
        click.echo(line, err=True)


@identity_group.command("config-doc")
def config_doc_command() -> None:
    """Print the configuration table (Markdown) docs/configuration.md shows."""
    from identity.config import config_table

    click.echo(config_table())


def _load_area_commands() -> None:
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        for command in getattr(module, "commands", []):
            if command.name not in identity_group.commands:
                identity_group.add_command(command)


def register(app: Flask) -> None:
    if "identity" not in app.cli.commands:
        app.cli.add_command(identity_group)


def build_cli() -> click.Group:
    """The ``identity`` command tree: one group, the area commands, ``--version``."""
    _load_area_commands()
    cli = click.Group(
        name="identity", help="Manage and serve the identity service.", callback=_audit_as_cli
    )
    click.version_option(package_name=DISTRIBUTION, prog_name="identity")(cli)
    for command in identity_group.commands.values():
        cli.add_command(command)
    return cli


def __getattr__(name: str) -> Any:
    """``identity.cli.cli_reference``: the command tree, for the generated docs/cli.md."""
    if name == "cli_reference":
        return _with_shown_defaults(copy.deepcopy(build_cli()))
    raise AttributeError(name)


def _with_shown_defaults(command: click.Command) -> click.Command:
    """Click 8.3 marks "no default" with a sentinel that mkdocs-click prints as is
    (``Sentinel.UNSET``); the docs show what the command gets: ``False`` for a flag, else none.
    An empty default is shown as ``""`` (mkdocs-click would print an empty code span), a
    required option as ``required`` (it would print ``_required``)."""
    for param in command.params:
        if param.required and isinstance(param, click.Option):
            param.required, param.default = False, "required"
        elif repr(param.default) == "Sentinel.UNSET":
            flag = isinstance(param, click.Option) and param.is_flag
            param.default = False if flag and not param.multiple else None
        elif param.default == "":
            param.default = '""'
    if command.add_help_option:  # made afresh per context, with the sentinel: list it ourselves
        command.add_help_option = False
        shown = "Show this message and exit."
        command.params.append(click.Option(["--help"], is_flag=True, default=False, help=shown))
    for sub in getattr(command, "commands", {}).values():
        _with_shown_defaults(sub)
    return command
