"""Live-server fixtures of the serve tests: `identity init` + `identity serve` in a tmp dir."""

from tests.integration.test_serve import instance_env, served

__all__ = ["instance_env", "served"]
