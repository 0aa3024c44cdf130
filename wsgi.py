"""WSGI entry point from a checkout (``flask --app wsgi ...``); see ``identity.wsgi``."""

from identity.wsgi import app

__all__ = ["app"]
