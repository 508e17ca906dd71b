"""Which tests check which requirement: pytest's own collection, run in this process."""

from __future__ import annotations

import contextlib
import io
from collections import defaultdict
from pathlib import Path

import pytest

from harness.errors import CollectionError
from harness.plugin import REQUIREMENTS

PROJECT = Path(__file__).resolve().parent.parent


class _RequirementCollector:
    """A pytest plugin that keeps, per requirement id, the node ids of the tests naming it."""

    def __init__(self) -> None:
        self.tests: dict[str, list[str]] = defaultdict(list)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            for requirement in item.stash.get(REQUIREMENTS, ()):
                self.tests[requirement.id].append(item.nodeid)


def collect_tests_by_requirement(
    scenarios: Path, catalogue: Path | None = None
) -> dict[str, list[str]]:
    """Requirement id -> node ids (relative to the project) of the tests under ``scenarios``
    whose ``requirement`` markers name it, in collection order.

    :raises CollectionError: collection failed (an unknown id, an import error…).
    """
    collector = _RequirementCollector()
    pytest_args = [
        str(scenarios),
        f"--rootdir={PROJECT}",
        "--collect-only",
        "-q",
        "-p",
        "no:cacheprovider",
        *([f"--catalogue={catalogue}"] if catalogue else []),
    ]
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        status = pytest.main(pytest_args, plugins=[collector])
    if status not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        raise CollectionError(f"collecting {scenarios} failed", output.getvalue()[-3000:])
    return dict(collector.tests)
