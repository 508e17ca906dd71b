"""The ``harness`` command: ``harness run`` runs the scenario suites and writes the report
(:mod:`harness.run`); ``harness doctor`` checks what a run needs; ``harness report`` builds a
run's report again; ``harness catalogue`` lists the requirements with the tests that check
them; ``harness selftest`` turns each security check of the bundled server off in turn and
shows which scenarios notice; ``harness load`` runs many complete logins at once on Locust
(:mod:`harness.load`); ``harness guide`` walks a person through the login and 2FA journeys
in a browser and records what they say (:mod:`harness.guide.command`). Arguments after ``--``
go to pytest unchanged.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness import doctor
from harness import load as load_mode
from harness import selftest as detection
from harness.catalogue import Catalogue, CatalogueError
from harness.collection import collect_tests_by_requirement
from harness.errors import CollectionError, HarnessError
from harness.guide import command as guide_mode
from harness.plugin import AUTHENTICATORS, key_number, positive_seconds, shard
from harness.report.build import build_report
from harness.report.merge import merge_shards
from harness.run import end_screen, execute
from virtual_authenticators.hardware import DEFAULT_TOUCH_TIMEOUT

PROJECT = Path(__file__).resolve().parent.parent


SUITES = sorted(
    folder.name
    for folder in (PROJECT / "scenarios").iterdir()
    if folder.is_dir() and any(folder.glob("test_*.py"))
)
BROWSERS = ("chromium", "firefox", "webkit")


def _workers(value: str) -> str:
    if value == "auto" or (value.isdigit() and int(value) >= 1):
        return value
    raise argparse.ArgumentTypeError(f"a number of 1 or more, or auto, not {value!r}")


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
        "--suite",
        action="append",
        choices=SUITES,
        default=[],
        help="run only this suite (repeatable; default: all)",
    )
    run.add_argument(
        "--requirement",
        action="append",
        default=[],
        metavar="ID",
        help="run only the tests of this requirement (repeatable; `harness catalogue` lists them)",
    )
    run.add_argument(
        "--authenticator",
        choices=AUTHENTICATORS,
        help="the WebAuthn scenarios run with this authenticator only (default: every software"
        " one); hid: a plugged-in security key",
    )
    run.add_argument(
        "--shard",
        type=shard,
        default=None,
        metavar="I/N",
        help="run only the I-th of N shares of the tests, the same split on every machine;"
        " `harness report SHARD… --into FOLDER` merges the shards' reports",
    )
    run.add_argument(
        "--key",
        type=key_number,
        default=None,
        metavar="N",
        help="with --authenticator hid and several keys plugged in, use the N-th (from 1, as"
        " `harness doctor --keys` lists them)",
    )
    run.add_argument(
        "--touch-timeout",
        type=positive_seconds,
        default=DEFAULT_TOUCH_TIMEOUT,
        metavar="SECONDS",
        help=f"with --authenticator hid, how long each touch is waited for"
        f" (default {DEFAULT_TOUCH_TIMEOUT:g})",
    )
    run.add_argument(
        "--browser",
        choices=BROWSERS,
        default="chromium",
        help="the browser of the browser-level scenarios (default: chromium)",
    )
    run.add_argument(
        "--browser-ws",
        default=None,
        metavar="URL",
        help="use the browser of the Playwright server at this ws:// or wss:// URL (a browser"
        " grid) instead of launching one",
    )
    run.add_argument("--headed", action="store_true", help="show the browser while it runs")
    run.add_argument(
        "--workers",
        type=_workers,
        default=None,
        metavar="N",
        help="tests at once, each worker with its own bundled server: a number or auto"
        " (default: auto for the bundled server, 1 against --base-url or with --authenticator hid)",
    )
    run.add_argument(
        "--disable-check",
        action="append",
        default=[],
        metavar="NAME",
        help="start the bundled server with this security check off, to see the report of a"
        " failing run (`reference-server --list-checks` names them)",
    )
    run.add_argument(
        "--allow-destructive",
        action="store_true",
        help="also run the destructive scenarios against --base-url (never against pypi.org)",
    )
    run.add_argument(
        "--reports",
        type=Path,
        default=Path("reports"),
        help="folder that receives <timestamp>/ and latest (default: ./reports)",
    )
    run.add_argument("pytest_args", nargs="*", help="after --: passed to pytest as they are")
    doctor.add_arguments(
        commands.add_parser(
            "doctor", help="check everything a run needs; say how to fix what is not"
        )
    )
    report = commands.add_parser(
        "report", help="build the report of a run's folder again from its Allure results"
    )
    report.add_argument(
        "folders",
        type=Path,
        nargs="+",
        metavar="FOLDER",
        help="a run's folder, e.g. reports/latest; or, with --into, the folders of every shard"
        " of one run",
    )
    report.add_argument(
        "--into",
        type=Path,
        default=None,
        metavar="FOLDER",
        help="merge the shards (harness run --shard I/N) into this new folder and build its report",
    )
    catalogue = commands.add_parser(
        "catalogue",
        help="list each requirement with the tests that check it; flag those with none",
    )
    catalogue.add_argument(
        "--tests", action="store_true", help="list each requirement's tests, not only a count"
    )
    commands.add_parser(
        "bench",
        help="measure the harness's speed and memory and write benchmarks/RESULTS.md"
        " (`harness bench --help` lists its options)",
        add_help=False,
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
    load_mode.add_arguments(
        commands.add_parser(
            "load",
            help="many complete logins with a second factor at once, on Locust: per-step"
            " latency percentiles and errors",
        )
    )
    guide_mode.add_arguments(
        commands.add_parser(
            "guide",
            help="walk a person through the login and 2FA journeys in a browser, asking them"
            " about each; stop and resume, undo at the end",
        )
    )
    for command in (catalogue, selftest, run, report):
        command.add_argument(
            "--catalogue",
            type=Path,
            default=None,
            metavar="PATH",
            help="the requirements catalogue (default: the bundled harness/catalogue.toml)",
        )
    for command in (catalogue, selftest, run):
        command.add_argument(
            "--scenarios",
            type=Path,
            default=PROJECT / "scenarios",
            metavar="FOLDER",
            help="where the tests are (default: the project's scenarios/; --suite names its"
            " folders)",
        )
    return parser


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


def report(args: argparse.Namespace) -> int:
    """Build (again) the report of a run's folder, or of the shards merged into a new one: 0 all
    met, 1 a requirement failed, 2 no report."""
    if args.into is None and len(args.folders) > 1:
        print(
            "harness: error: several folders are merged: name the new one with --into",
            file=sys.stderr,
        )
        return 2
    try:
        catalogue = Catalogue.load(args.catalogue)
        if args.into is not None:
            merge_shards(args.folders, args.into)
        built = build_report(args.into or args.folders[0], catalogue)
    except HarnessError as error:
        print(f"harness: error: {error}", file=sys.stderr)
        return 2
    print(end_screen(built))
    return 0 if built.all_met else 1


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:
        # The benchmarks parse their own options.
        from benchmarks import main as bench

        return bench(argv[1:])
    args = build_parser().parse_args(argv)
    if args.command == "catalogue":
        return catalogue(args)
    if args.command == "selftest":
        return selftest(args)
    if args.command == "doctor":
        return doctor.run(args)
    if args.command == "report":
        return report(args)
    if args.command == "load":
        return load_mode.run(args)
    if args.command == "guide":
        return guide_mode.run(args)
    return execute(args, argv)


if __name__ == "__main__":
    sys.exit(main())
