"""Prints what the deployment test measured (image size, times) at the end of the run."""

from __future__ import annotations

import pytest

from tests.deploy import REPORT


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if REPORT:
        terminalreporter.section("deployment")
        for line in REPORT:
            terminalreporter.write_line(line)
