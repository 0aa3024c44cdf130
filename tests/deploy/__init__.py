"""The deployment kit, built and run with a container engine (tests/deploy/test_compose.py)."""

REPORT: list[str] = []  # lines for the end of the pytest run (conftest.py prints them)
