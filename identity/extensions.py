"""Unbound Flask extensions, and the typed getter of the app's services."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, current_app
from flask_smorest import Api

if TYPE_CHECKING:
    from identity.container import Services

SERVICES = "identity.services"
api = Api()


def services(app: Flask | None = None) -> Services:
    """The services ``create_app`` built for this app (``identity.container``)."""
    built: Services = (app or current_app).extensions[SERVICES]
    return built
