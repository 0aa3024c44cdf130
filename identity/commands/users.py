"""Placeholder: this area's commands are built by its own issue."""

from __future__ import annotations

import click

commands: list[click.Command] = []
