"""Fixtures shared by the integration tests: a fresh instance folder and a served gunicorn."""

from tests.integration.test_serve import instance_env, served  # noqa: F401 - pytest fixtures
