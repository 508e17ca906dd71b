"""The ``harness`` command: ``harness run`` runs the scenario suites and keeps the report;
``harness catalogue`` lists the requirements with the tests that check them.

``harness run`` writes each run under ``reports/<UTC timestamp>/`` (``junit.xml``,
``allure-results/``, screenshots of failed browser tests) and points
``reports/latest`` at it. Arguments after ``--`` go to pytest unchanged.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness.catalogue import Catalogue, CatalogueError
from harness.plugin import REQUIREMENTS

PROJECT = Path(__file__).resolve().parent.parent


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="harness", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the scenario suites and write a report")
    run.add_argument(
        "--base-url",
        help="the target's URL; default: start the bundled reference server on localhost",
    )
    run.add_argument(
        "--target-profile",
        default="reference",
        help="target profile: reference, reference-2019 or a .toml file (default: reference)",
    )
    run.add_argument(
        "--reports",
        type=Path,
        default=Path("reports"),
        help="folder that receives <timestamp>/ and latest (default: ./reports)",
    )
    run.add_argument("pytest_args", nargs="*", help="after --: passed to pytest as they are")
    catalogue = commands.add_parser(
        "catalogue",
        help="list each requirement with the tests that check it; flag those with none",
    )
    catalogue.add_argument(
        "--tests", action="store_true", help="list each requirement's tests, not only a count"
    )
    catalogue.add_argument(
        "--catalogue",
        type=Path,
        default=None,
        metavar="PATH",
        help="the requirements catalogue (default: the bundled harness/catalogue.toml)",
    )
    catalogue.add_argument(
        "--scenarios",
        type=Path,
        default=PROJECT / "scenarios",
        metavar="FOLDER",
        help="where the tests are (default: the project's scenarios/)",
    )
    return parser


def new_report_folder(reports: Path) -> Path:
    """Make ``reports/<UTC timestamp>/`` and point ``reports/latest`` at it."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = reports / stamp
    folder.mkdir(parents=True, exist_ok=False)
    latest = reports / "latest"
    if latest.is_symlink() or latest.exists():
        latest.unlink()
    latest.symlink_to(stamp, target_is_directory=True)
    return folder


def run(args: argparse.Namespace) -> int:
    try:
        folder = new_report_folder(args.reports)
    except OSError as error:
        print(f"harness: error: cannot create the report folder: {error}", file=sys.stderr)
        return 2
    pytest_args = [
        str(PROJECT / "scenarios"),
        f"--rootdir={PROJECT}",
        f"--target-profile={args.target_profile}",
        f"--junitxml={folder / 'junit.xml'}",
        f"--alluredir={folder / 'allure-results'}",
        f"--output={folder / 'artifacts'}",
        # Playwright's traces record every typed value, passwords included, so they stay off
        # until they can be kept without secrets.
        "--screenshot=only-on-failure",
        *([f"--base-url={args.base_url}"] if args.base_url else []),
        *args.pytest_args,
    ]
    status = pytest.main(pytest_args)
    print(f"harness: report in {folder}")
    return int(status)


class _RequirementCollector:
    """A pytest plugin that keeps, per requirement id, the node ids of the tests naming it."""

    def __init__(self) -> None:
        self.tests: dict[str, list[str]] = defaultdict(list)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            for requirement in item.stash.get(REQUIREMENTS, ()):
                self.tests[requirement.id].append(item.nodeid)


def catalogue(args: argparse.Namespace) -> int:
    """Print every requirement with its tests; 1 when some have none, 2 when it cannot tell."""
    try:
        requirements = Catalogue.load(args.catalogue)
    except CatalogueError as error:
        print(f"harness: error: {error}", file=sys.stderr)
        return 2
    collector = _RequirementCollector()
    pytest_args = [
        str(args.scenarios),
        f"--rootdir={PROJECT}",
        "--collect-only",
        "-q",
        "-p",
        "no:cacheprovider",
        *([f"--catalogue={args.catalogue}"] if args.catalogue else []),
    ]
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        status = pytest.main(pytest_args, plugins=[collector])
    if status not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        print(output.getvalue()[-3000:], file=sys.stderr)
        print(f"harness: error: collecting {args.scenarios} failed", file=sys.stderr)
        return 2
    untested = []
    for requirement in requirements:
        tests = collector.tests.get(requirement.id, [])
        count = f"{len(tests)} test{'s' if len(tests) != 1 else ''}" if tests else "NO TEST"
        print(f"{requirement.id} [{requirement.severity}] {requirement.text}")
        print(f"    {count} · {', '.join(requirement.policies)} · {requirement.source}")
        if args.tests:
            print("".join(f"      {test}\n" for test in tests), end="")
        if not tests:
            untested.append(requirement.id)
    tested = len(requirements) - len(untested)
    print(f"\n{len(requirements)} requirements: {tested} with tests, {len(untested)} without")
    if untested:
        print(f"without a test: {', '.join(untested)}")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "catalogue":
        return catalogue(args)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
