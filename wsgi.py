"""WSGI entry point: ``gunicorn wsgi:app``."""

from identity.app import create_app

app = create_app()
