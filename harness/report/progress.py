"""``harness run``'s live progress: a line per suite with its passed and failed counts and the
time it has taken, redrawn in place as results come in (from xdist's workers too, whose suites
run side by side). Written only to a terminal; elsewhere (CI logs) it stays quiet, and the
report says everything."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TextIO

import pytest

from harness.report.labels import suite_of

OTHER = "other"


@dataclass
class SuiteCount:
    expected: int = 0
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    started: float | None = None
    """When its first result came (monotonic seconds)."""
    last: float | None = None
    """When its latest result came."""

    @property
    def done(self) -> int:
        return self.passed + self.failed + self.skipped


class Progress:
    """A pytest plugin (registered by ``harness run`` in its own process) that keeps a block of
    lines on ``out``, one per suite, redrawn in place as results come in: done/expected,
    passed, failed, skipped, and the time from its first result to its latest."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.suites: dict[str, SuiteCount] = {}
        self.outcomes: dict[str, str] = {}
        self.drawn = 0

    def expect(self, nodeids: list[str]) -> None:
        if self.suites:
            return  # each xdist worker collects the same tests: count them once
        for nodeid in nodeids:
            self.suites.setdefault(suite_of(nodeid) or OTHER, SuiteCount()).expected += 1
        self._draw()

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.expect([item.nodeid for item in session.items])

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: object, ids: list[str]) -> None:
        self.expect(ids)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        outcome = _outcome(report)
        if outcome is None or report.nodeid in self.outcomes:
            return
        self.outcomes[report.nodeid] = outcome
        suite = self.suites.setdefault(suite_of(report.nodeid) or OTHER, SuiteCount())
        setattr(suite, outcome, getattr(suite, outcome) + 1)
        suite.last = time.monotonic()
        suite.started = suite.started or suite.last
        self._draw()

    def _draw(self) -> None:
        up = f"\033[{self.drawn}F" if self.drawn else ""
        lines = [f"\033[K{self._line(name, suite)}\n" for name, suite in self.suites.items()]
        self.out.write(up + "".join(lines))
        self.out.flush()
        self.drawn = len(lines)

    @staticmethod
    def _line(name: str, suite: SuiteCount) -> str:
        elapsed = int((suite.last or 0) - (suite.started or 0))
        return (
            f"  {name:<18} {suite.done:>4}/{suite.expected:<4} {suite.passed:>4} passed"
            f"  {suite.failed:>3} failed  {suite.skipped:>3} skipped"
            f"  {elapsed // 60}:{elapsed % 60:02d}"
        )


def _outcome(report: pytest.TestReport) -> str | None:
    """A test's outcome once it is known: a failure in any phase, a skip at set-up, or the
    call's pass. None for the reports that decide nothing."""
    if report.failed:
        return "failed"
    if report.when == "setup" and report.skipped:
        return "skipped"
    if report.when == "call":
        return "skipped" if report.skipped else "passed"
    return None
