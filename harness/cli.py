"""The ``harness`` command: ``harness run`` runs the scenario suites and keeps the report;
``harness catalogue`` lists the requirements with the tests that check them; ``harness
selftest`` turns each security check of the bundled server off in turn and shows which
scenarios notice.

``harness run`` writes each run under ``reports/<UTC timestamp>/`` (``junit.xml``,
``allure-results/``, screenshots of failed browser tests) and points
``reports/latest`` at it. Arguments after ``--`` go to pytest unchanged.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness import selftest as detection
from harness.catalogue import Catalogue, CatalogueError
from harness.collection import collect_tests_by_requirement
from harness.errors import CollectionError, HarnessError

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
    selftest = commands.add_parser(
        "selftest",
        help="turn each security check of the bundled server off in turn; show which"
        " scenarios notice, and fail if one goes unnoticed",
    )
    selftest.add_argument(
        "--check",
        action="append",
        default=[],
        metavar="NAME",
        help="only this check (repeatable; default: all)",
    )
    selftest.add_argument(
        "--list", action="store_true", help="list the server's checks and their requirements"
    )
    selftest.add_argument(
        "--jobs",
        type=int,
        default=detection.default_jobs(),
        metavar="N",
        help="servers and pytest runs at once (default: one per CPU, here %(default)s)",
    )
    selftest.add_argument("pytest_args", nargs="*", help="after --: passed to each pytest run")
    for command in (catalogue, selftest):
        command.add_argument(
            "--catalogue",
            type=Path,
            default=None,
            metavar="PATH",
            help="the requirements catalogue (default: the bundled harness/catalogue.toml)",
        )
        command.add_argument(
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


def catalogue(args: argparse.Namespace) -> int:
    """Print every requirement with its tests; 1 when some have none, 2 when it cannot tell."""
    try:
        requirements = Catalogue.load(args.catalogue)
    except CatalogueError as error:
        print(f"harness: error: {error}", file=sys.stderr)
        return 2
    try:
        tests_of = collect_tests_by_requirement(args.scenarios, args.catalogue)
    except CollectionError as error:
        print(error.output, file=sys.stderr)
        print(f"harness: error: {error}", file=sys.stderr)
        return 2
    untested = []
    for requirement in requirements:
        tests = tests_of.get(requirement.id, [])
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


def selftest(args: argparse.Namespace) -> int:
    """Turn each check off in turn: 0 all caught, 1 one went unnoticed, 2 no verdict."""
    try:
        checks = detection.choose(detection.server_checks(), args.check)
        if args.list:
            for check in checks:
                print(f"{check.name}  [{check.policy}]  {', '.join(check.requirements)}")
                print(f"    {check.summary}")
            return 0
        if args.jobs < 1:
            raise detection.SelftestError(f"--jobs must be 1 or more, not {args.jobs}")
        requirements = Catalogue.load(args.catalogue)
        for check in checks:
            unknown = [r for r in check.requirements if r not in requirements]
            if unknown:
                raise detection.SelftestError(
                    f"the server's check {check.name!r} names requirements the catalogue"
                    f" lacks: {', '.join(unknown)}"
                )
        tests = collect_tests_by_requirement(args.scenarios, args.catalogue)
        workdir = detection.new_workdir()
        print(f"harness: logs of each run in {workdir}", flush=True)
        detection.check_honest_server(checks, tests, workdir, args.pytest_args)

        def progress(verdict: detection.Verdict) -> None:
            if sys.stdout.isatty():
                mark = "caught" if verdict.caught else "NOT CAUGHT"
                print(f"  {verdict.check.name}: {mark}", flush=True)

        verdicts = detection.run_selftest(
            checks, tests, workdir, args.jobs, args.pytest_args, progress
        )
    except CollectionError as error:
        print(error.output, file=sys.stderr)
        print(f"harness: error: {error}", file=sys.stderr)
        return 2
    except HarnessError as error:
        print(f"harness: error: {error}", file=sys.stderr)
        return 2
    print(detection.table(verdicts))
    return 0 if all(verdict.caught for verdict in verdicts) else 1


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "catalogue":
        return catalogue(args)
    if args.command == "selftest":
        return selftest(args)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
