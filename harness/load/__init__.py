"""``harness load``: many complete logins with a second factor at once, on Locust.

:func:`run` checks what it was asked (refusing the production index, and any host but this
machine without ``--i-own-this-server``), starts the bundled server when no ``--base-url`` is
given, makes one fresh account per Locust user, runs Locust in a subprocess (it monkey-patches
the standard library with gevent, which this process must not see) on the journeys of
:mod:`harness.load.journeys`, and reports each step's latency percentiles and the errors
(:mod:`harness.load.report`).

Exit status: 0 the load ran (errors included: they are in the report); 1 Locust itself failed;
2 the run was refused or could not start, with one line saying why.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from harness.errors import HarnessError
from harness.imap import mailbox_from_environment
from harness.load import options
from harness.load.flows import JOURNEYS
from harness.load.report import CSV_PREFIX, RESULTS_VARIABLE, LoadReport
from harness.load.users import ACCOUNTS_VARIABLE, LoadPlan, provision, write_plan
from harness.targets import BundledServer, Profile, Target

LOCUSTFILE = Path(__file__).resolve().parent / "journeys.py"
LOCUST = (sys.executable, "-m", "locust", "--locustfile", str(LOCUSTFILE))
"""Locust on the journeys, in a process of its own (it monkey-patches the standard library)."""
DEFAULT_MASTER_PORT = 5557
_MASTER_ONLY = ("base_url", "users", "spawn_rate", "duration", "out")


@dataclass(frozen=True)
class LoadSettings:
    """What ``harness load`` was asked, checked."""

    base_url: str | None
    users: int
    spawn_rate: float
    seconds: int
    journeys: tuple[str, ...]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``harness load``."""
    parser.add_argument(
        "--base-url",
        help="the target's URL; default: start the bundled reference server on localhost",
    )
    parser.add_argument("--users", metavar="N", help="concurrent users, each its own account")
    parser.add_argument("--spawn-rate", metavar="R", help="users started per second")
    parser.add_argument(
        "--duration", metavar="T", help="how long the load runs: 30s, 2m, 1h30m or plain seconds"
    )
    parser.add_argument(
        "--journeys",
        default=",".join(JOURNEYS),
        metavar="NAMES",
        help=f"comma-separated journeys each user takes in turn (default: {','.join(JOURNEYS)})",
    )
    parser.add_argument(
        "--i-own-this-server",
        action="store_true",
        help="allow a --base-url that is not this machine (never the production index)",
    )
    parser.add_argument(
        "--target-profile",
        default="reference",
        help="target profile: reference, reference-2019 or a .toml file (default: reference)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="FOLDER",
        help="a new (or empty) folder for the report (default: reports/load-<timestamp>)",
    )
    distributed = parser.add_mutually_exclusive_group()
    distributed.add_argument(
        "--master",
        action="store_true",
        help="run Locust's master here: it makes the accounts, hands them to the workers and"
        " writes the report",
    )
    distributed.add_argument(
        "--worker",
        action="store_true",
        help="run a Locust worker for the master at --master-host (it takes everything else"
        " from the master)",
    )
    parser.add_argument(
        "--expect-workers",
        type=options.workers,
        default=1,
        metavar="K",
        help="with --master: start once K workers are connected (default 1)",
    )
    parser.add_argument(
        "--master-host",
        default="127.0.0.1",
        metavar="HOST",
        help="with --worker: the master's host (default 127.0.0.1)",
    )
    parser.add_argument(
        "--master-port",
        type=options.port,
        default=DEFAULT_MASTER_PORT,
        metavar="PORT",
        help=f"the master's port (default {DEFAULT_MASTER_PORT})",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``harness load`` as ``args`` say; its exit status."""
    try:
        if args.worker:
            return _worker(args)
        settings = _check(args)
        profile = Profile.load(args.target_profile)
        folder = _out_folder(args.out)
    except HarnessError as error:
        print(f"harness: error: {error}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="harness-load-") as scratch:
        # The folder is this user's alone (mode 0700); it holds the accounts file while the
        # load runs, and goes with it.
        results = Path(scratch) / "results.json"
        try:
            base_url, status = _load(args, settings, profile, Path(scratch), results, folder)
        except HarnessError as error:
            print(f"harness: error: {error}", file=sys.stderr)
            return 2
        if status != 0 or not results.exists():
            why = f"exit status {status}" if status != 0 else "it wrote no statistics"
            print(
                f"harness: error: Locust failed ({why}); see {folder / 'locust.log'}",
                file=sys.stderr,
            )
            return 1
        report = LoadReport.read(
            results,
            target=base_url,
            users=settings.users,
            spawn_rate=settings.spawn_rate,
            seconds=settings.seconds,
            journeys=settings.journeys,
        )
    report.write(folder)
    print(report.table())
    print(f"\nharness: report in {folder}")
    return 0


def _load(
    args: argparse.Namespace,
    settings: LoadSettings,
    profile: Profile,
    scratch: Path,
    results: Path,
    folder: Path,
) -> tuple[str, int]:
    """Make the accounts on the target (started here when bundled) and run Locust on them;
    the target's URL and Locust's exit status.

    :raises HarnessError: the target could not be started or its accounts made.
    """
    with _target(settings.base_url, profile, scratch / "server") as target:
        print(
            f"harness: making {settings.users} test account{'s' * (settings.users != 1)}"
            f" on {target.base_url}",
            flush=True,
        )
        accounts = provision(target, settings.users, settings.journeys)
        plan = write_plan(
            scratch, LoadPlan(settings.journeys, profile.webauthn_encoding, tuple(accounts))
        )
        folder.mkdir(parents=True, exist_ok=True)
        return target.base_url, _locust(args, settings, target.base_url, plan, results, folder)


def _check(args: argparse.Namespace) -> LoadSettings:
    """The settings ``args`` ask for; refuse, in one line, what ``harness load`` must not do,
    before anything is sent.

    :raises options.LoadRefusal: a missing or bad number, an unknown journey, a target it must
        not load, or a remote target without a mailbox to make its test users with.
    """
    missing = [
        flag
        for flag, value in (
            ("--users", args.users),
            ("--spawn-rate", args.spawn_rate),
            ("--duration", args.duration),
        )
        if value is None
    ]
    if missing:
        raise options.LoadRefusal(f"harness load needs {', '.join(missing)}")
    settings = LoadSettings(
        base_url=args.base_url,
        users=options.users(args.users),
        spawn_rate=options.spawn_rate(args.spawn_rate),
        seconds=options.duration(args.duration),
        journeys=options.journeys(args.journeys),
    )
    refusal = options.target_refusal(args.base_url, args.i_own_this_server)
    if refusal is not None:
        raise options.LoadRefusal(refusal)
    if args.base_url and mailbox_from_environment(os.environ) is None:
        raise options.LoadRefusal(
            f"making test users on {args.base_url} needs its mail: set HARNESS_IMAP_URL and"
            " HARNESS_MAIL_ADDRESS (README: Against a staging server)"
        )
    return settings


def _out_folder(out: Path | None) -> Path:
    """The report folder: ``out``, which must be new or empty, or a new
    ``reports/load-<timestamp>``; not made yet.

    :raises options.LoadRefusal: ``out`` already holds files, or is not a folder.
    """
    if out is None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        out = Path("reports") / f"load-{stamp}"
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise options.LoadRefusal(f"{out} already holds files: name a new folder with --out")
    return out


@contextlib.contextmanager
def _target(base_url: str | None, profile: Profile, workdir: Path) -> Iterator[Target]:
    """The target: ``base_url``'s server with its mailbox from the environment, or the bundled
    server started on localhost for the run, its per-address limits lifted as for a harness
    session (every user comes from this one machine)."""
    if base_url:
        mailbox = mailbox_from_environment(os.environ)
        try:
            yield Target(
                base_url.rstrip("/"), profile, mailbox, bundled=False, pacer=profile.pacer()
            )
        finally:
            if mailbox is not None:
                mailbox.close()
        return
    with BundledServer(profile.for_bundled_server(), workdir) as server:
        assert server.target is not None
        yield server.target


def _locust(
    args: argparse.Namespace,
    settings: LoadSettings,
    base_url: str,
    plan: Path,
    results: Path,
    folder: Path,
) -> int:
    """Run Locust's headless (or master) process on ``plan``; its exit status. Its output
    and CSV files go to ``folder``, its final statistics to ``results``; the accounts file is
    named by an environment variable, never on the command line."""
    command = [
        *LOCUST,
        "--headless",
        "--host",
        base_url,
        "--users",
        str(settings.users),
        "--spawn-rate",
        f"{settings.spawn_rate:g}",
        "--run-time",
        f"{settings.seconds}s",
        "--stop-timeout",
        "10",
        "--csv",
        str(folder.resolve() / CSV_PREFIX),
        "--exit-code-on-error",
        "0",
        "--loglevel=INFO",
    ]
    if args.master:
        command += [
            "--master",
            "--expect-workers",
            str(args.expect_workers),
            "--master-bind-port",
            str(args.master_port),
        ]
    where = f", {args.expect_workers} worker(s) expected on port {args.master_port}"
    print(
        f"harness: {settings.users} users on {base_url} for {settings.seconds} s"
        f"{where if args.master else ''}; Locust's log: {folder / 'locust.log'}",
        flush=True,
    )
    env = {**os.environ, ACCOUNTS_VARIABLE: str(plan), RESULTS_VARIABLE: str(results)}
    # In the run's own empty folder: Locust puts its working folder first on sys.path and
    # reads a locust.conf there, and neither should come from wherever the tester stands.
    return _wait(command, folder / "locust.log", env, cwd=plan.parent)


def _worker(args: argparse.Namespace) -> int:
    """Run a Locust worker for the master at ``--master-host``; 0 once the master is done."""
    given = [name for name in _MASTER_ONLY if getattr(args, name) is not None]
    if args.journeys != ",".join(JOURNEYS):
        given.append("journeys")
    if given:
        flag = "--" + given[0].replace("_", "-")
        raise options.LoadRefusal(f"--worker takes {flag} from the master: leave it out")
    command = [
        *LOCUST,
        "--worker",
        "--master-host",
        args.master_host,
        "--master-port",
        str(args.master_port),
    ]
    print(f"harness: worker for the master at {args.master_host}:{args.master_port}", flush=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in (ACCOUNTS_VARIABLE, RESULTS_VARIABLE)
    }
    with tempfile.TemporaryDirectory(prefix="harness-load-worker-") as empty:
        status = _wait(command, None, env, cwd=Path(empty))
    if status != 0:
        print(f"harness: error: the Locust worker failed (exit status {status})", file=sys.stderr)
        return 1
    return 0


def _wait(
    command: list[str], log: Path | None, env: dict[str, str], cwd: Path | None = None
) -> int:
    """Run ``command`` to its end, its output to ``log`` (None: this process's own); on
    Ctrl-C, let it stop (Locust writes its statistics as it does)."""
    with open(log, "w", encoding="utf-8") if log else contextlib.nullcontext() as output:
        process = subprocess.Popen(
            command,
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
        )
        try:
            return process.wait()
        except KeyboardInterrupt:
            return process.wait()
