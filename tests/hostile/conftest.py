"""The hostile corpus runs on the integration tests' real services (the `system` fixture) and prints its size and
results by kind at the end of the run."""
from __future__ import annotations

from tests.integration.conftest import system  # noqa: F401 — the fixture, shared with the integration tests

SUMMARY: list[str] = []   # lines the corpus test leaves for the terminal summary


def pytest_terminal_summary(terminalreporter):
    if SUMMARY:
        terminalreporter.section("hostile corpus")
        for line in SUMMARY:
            terminalreporter.write_line(line)
