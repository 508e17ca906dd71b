"""``harness run``'s live progress: a line per suite with its passed and failed counts and the
time so far, rewritten in place as results come in (from xdist's workers too). Written only to
a terminal; elsewhere (CI logs) it stays quiet, and the report says everything."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
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
    started: float = field(default_factory=time.monotonic)

    @property
    def done(self) -> int:
        return self.passed + self.failed + self.skipped


class Progress:
    """A pytest plugin (registered by ``harness run`` in its own process) that shows each suite's
    counts on ``out``; one finished line per suite, and a live line for the latest."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.suites: dict[str, SuiteCount] = {}
        self.live: str | None = None
        self.outcomes: dict[str, str] = {}

    def expect(self, nodeids: list[str]) -> None:
        if self.suites:
            return  # each xdist worker collects the same tests: count them once
        for nodeid in nodeids:
            self._suite(nodeid).expected += 1

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
        name = suite_of(report.nodeid) or OTHER
        suite = self._suite(report.nodeid)
        setattr(suite, outcome, getattr(suite, outcome) + 1)
        if self.live is not None and self.live != name:
            self._finish_line(self.live)
        self.live = name
        if suite.done >= suite.expected:
            self._finish_line(name)
            self.live = None
        else:
            self._write(f"\r\033[K{self._line(name)}")

    def pytest_sessionfinish(self) -> None:
        if self.live is not None:
            self._finish_line(self.live)

    def _suite(self, nodeid: str) -> SuiteCount:
        return self.suites.setdefault(suite_of(nodeid) or OTHER, SuiteCount())

    def _finish_line(self, name: str) -> None:
        self._write(f"\r\033[K{self._line(name)}\n")

    def _line(self, name: str) -> str:
        suite = self.suites[name]
        elapsed = int(time.monotonic() - suite.started)
        failed = f"{suite.failed} failed" if suite.failed else "0 failed"
        return (
            f"  {name:<18} {suite.done:>4}/{suite.expected:<4} {suite.passed:>4} passed"
            f"  {failed:>9}  {suite.skipped:>3} skipped  {elapsed // 60}:{elapsed % 60:02d}"
        )

    def _write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()


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
