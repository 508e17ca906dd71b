"""The ``harness`` command: ``harness run`` runs the scenario suites and keeps the report.

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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
