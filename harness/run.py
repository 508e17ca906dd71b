"""``harness run``: check that the run can work, run the suites under pytest with live progress,
build the report, and end on one screen of verdicts.

Exit status: 0 every requirement run was met; 1 one failed (or could not be checked); 2 the
harness could not run (the target is down, no browser, a bad option), with one line saying why.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import pytest

from harness import doctor
from harness.catalogue import Catalogue, Severity
from harness.errors import HarnessError
from harness.report.build import RESULTS, Report, build_report
from harness.report.environment import RunEnvironment
from harness.report.progress import Progress
from harness.report.results import Status, tally
from harness.safety import production_refusal
from harness.targets import Profile
from virtual_authenticators.hardware import NoSecurityKey, choose_key, plugged_in_keys

PROJECT = Path(__file__).resolve().parent.parent


class CannotRun(HarnessError):
    """The run cannot start or did not finish; the message says why in one line."""


def execute(args: argparse.Namespace, argv: list[str]) -> int:
    """Run the suites as ``args`` say and write the report under ``args.reports``."""
    try:
        browser = preflight(args)
        profile = Profile.load(args.target_profile)
        catalogue = Catalogue.load(args.catalogue)
        folder = new_report_folder(args.reports)
    except HarnessError as error:
        print(f"harness: error: {error}", file=sys.stderr)
        return 2
    RunEnvironment(
        target=args.base_url or "the bundled reference server (localhost)",
        profile=args.target_profile,
        policy=profile.policy,
        browser=browser,
        authenticator=args.authenticator or "every software authenticator",
        harness_version=metadata.version("pypi-2fa-harness"),
        started=datetime.now(UTC).isoformat(timespec="seconds"),
        command=shlex.join(["harness", *argv]),
        shard=str(args.shard) if args.shard else "all",
    ).write(folder / RESULTS)
    status = _pytest(pytest_arguments(args, folder), folder / "pytest.log")
    if status not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        print(
            f"harness: error: the run stopped early ({_exit_reason(status)}); pytest's output is"
            f" in {folder / 'pytest.log'}",
            file=sys.stderr,
        )
        return 2
    try:
        report = build_report(folder, catalogue)
    except HarnessError as error:
        print(f"harness: error: the report could not be built: {error}", file=sys.stderr)
        return 2
    print(end_screen(report))
    return 0 if report.all_met and status == pytest.ExitCode.OK else 1


def preflight(args: argparse.Namespace) -> str:
    """Check what the run needs before starting it; the browser it will use, named.

    :raises CannotRun: the target is unreachable or no WebAuthn origin, no key for ``hid``, no
        browser.
    """
    if args.authenticator == "hid":
        try:
            choose_key(plugged_in_keys(), args.key)
        except NoSecurityKey as error:
            raise CannotRun(f"--authenticator hid: {error}") from None
    if args.base_url:
        production = production_refusal(args.base_url)
        if production is not None:
            # The suites register accounts, use up rate limits and delete projects.
            raise CannotRun(
                f"{production}, and neither does harness run: its suites change accounts and"
                " projects; aim it at test.pypi.org or a staging deploy"
            )
        for finding in (
            doctor.check_remote_target(args.base_url),
            doctor.check_origin(args.base_url),
        ):
            if finding.status == "missing":
                raise CannotRun(f"the target {finding.detail}")
    if args.browser_ws:
        browser = doctor.check_remote_browser(args.browser_ws, args.browser, not args.base_url)
    else:
        browser = doctor.check_browser(args.browser)
    if browser.status == "missing":
        raise CannotRun(f"{browser.detail}. Fix: {browser.fix}")
    return browser.detail


def new_report_folder(reports: Path) -> Path:
    """Make ``reports/<UTC timestamp>/`` and point ``reports/latest`` at it.

    :raises CannotRun: the folder cannot be made.
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = reports / stamp
    try:
        folder.mkdir(parents=True, exist_ok=False)
        latest = reports / "latest"
        if latest.is_symlink() or latest.exists():
            latest.unlink()
        latest.symlink_to(stamp, target_is_directory=True)
    except OSError as error:
        raise CannotRun(f"cannot create the report folder {folder}: {error.strerror}") from None
    return folder


def pytest_arguments(args: argparse.Namespace, folder: Path) -> list[str]:
    """pytest's command line for the run."""
    # One tester at one key answers one prompt at a time.
    one_at_a_time = args.base_url or args.authenticator == "hid"
    workers = args.workers or ("1" if one_at_a_time else "auto")
    suites = [str(args.scenarios / suite) for suite in args.suite] or [str(args.scenarios)]
    return [
        *suites,
        f"--rootdir={PROJECT}",
        f"--target-profile={args.target_profile}",
        f"--junitxml={folder / 'junit.xml'}",
        f"--alluredir={folder / RESULTS}",
        f"--output={folder / 'artifacts'}",
        # Traces are kept for failures and scrubbed of secrets; screenshots are the harness's
        # own, with the elements that show a secret masked.
        "--tracing=retain-on-failure",
        f"--browser={args.browser}",
        *(["--headed"] if args.headed else []),
        *([f"--base-url={args.base_url}"] if args.base_url else []),
        *(["--allow-destructive"] if args.allow_destructive else []),
        *([f"--authenticator={args.authenticator}"] if args.authenticator else []),
        *([f"--key={args.key}"] if args.key else []),
        *([f"--shard={args.shard}"] if args.shard else []),
        *([f"--browser-ws={args.browser_ws}"] if args.browser_ws else []),
        f"--touch-timeout={args.touch_timeout:g}",
        *(f"--requirement={requirement}" for requirement in args.requirement),
        *([f"--catalogue={args.catalogue}"] if args.catalogue else []),
        *(f"--disable-check={check}" for check in args.disable_check),
        # Work stealing: a worker that runs out takes tests from the other's queue, so that a
        # few slow scenarios at the end of one queue do not leave the other worker idle.
        *(["-n", workers, "--dist=worksteal"] if workers != "1" else []),
        *args.pytest_args,
    ]


def _pytest(arguments: list[str], log: Path) -> int:
    """Run pytest with its own output in ``log``, and live progress when on a terminal."""
    with contextlib.ExitStack() as stack:
        plugins = []
        if sys.stdout.isatty():
            # A stream of its own on the terminal, which pytest's output capture leaves alone.
            terminal = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
            plugins.append(Progress(stack.enter_context(terminal)))
        output = stack.enter_context(log.open("w", encoding="utf-8"))
        stack.enter_context(contextlib.redirect_stdout(output))
        return int(pytest.main(arguments, plugins=plugins))


def _exit_reason(status: int) -> str:
    reasons = {
        pytest.ExitCode.INTERRUPTED: "interrupted",
        pytest.ExitCode.INTERNAL_ERROR: "pytest hit an internal error",
        pytest.ExitCode.USAGE_ERROR: "pytest refused the options",
        pytest.ExitCode.NO_TESTS_COLLECTED: "no test matched the selection",
    }
    return reasons.get(status, f"pytest's exit status {status}")


def end_screen(report: Report) -> str:
    """The run's last screen: requirements by severity and verdict, and where the report is."""
    counts = tally(report.verdicts)
    shown = [Status.PASSED, Status.FAILED, Status.ERROR, Status.SKIPPED]
    lines = ["", f"{'requirements':<14}" + "".join(f"{s.value:>9}" for s in shown)]
    for severity in Severity:
        lines.append(
            f"  {severity.value:<12}" + "".join(f"{counts[severity][s]:>9}" for s in shown)
        )
    not_run = sum(counts[severity][Status.NOT_RUN] for severity in Severity)
    if not_run:
        lines.append(f"  ({not_run} requirements not selected for this run)")
    summary, *private = report.summaries
    if private:
        lines += [
            "",
            f"A security requirement failed: {private[0]} holds it. Send that file privately to the"
            " index's security contact; do not post it publicly.",
        ]
    lines += ["", f"report: {report.index}", f"        {summary}"]
    lines.append(f"        {report.folder / 'junit.xml'}")
    if report.html_note:
        lines.append(f"        ({report.html_note})")
    return "\n".join(lines)
