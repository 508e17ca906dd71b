"""The detection self-test: does every security check of the bundled server have a scenario
that notices it missing?

The reference server names its checks (``reference-server --list-checks``) and the catalogue
requirements each implements. For each check the self-test runs the scenarios that name
those requirements against a server started with that one check turned off
(``--disable-check``); the check is *caught* when at least one of them fails or errors (an
error is a fixture finding the server off its contract, e.g. no second-factor step at all).
Before that, the same scenarios run against the honest server, where all must pass: a
scenario failing on both proves nothing.

The server is only ever reached as a program, never imported: the harness stays black-box.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessError

PROJECT = Path(__file__).resolve().parent.parent

# The bundled target profile that runs the server under each policy.
PROFILE_OF_POLICY = {"current": "reference", "2019-beta": "reference-2019"}


class SelftestError(HarnessError):
    """The self-test cannot give a verdict: the server's checks, the catalogue or the
    honest run are not as they must be."""


@dataclass(frozen=True)
class ServerCheck:
    """One security check the bundled server can turn off (a line of ``--list-checks``)."""

    name: str
    requirements: tuple[str, ...]
    policy: str
    summary: str


@dataclass(frozen=True)
class Outcomes:
    """What a pytest run made of each test, by node id."""

    failed: tuple[str, ...]
    errors: tuple[str, ...]
    passed: tuple[str, ...]
    skipped: tuple[str, ...]


@dataclass(frozen=True)
class Verdict:
    """The scenarios run against the server without one check, and which of them failed."""

    check: ServerCheck
    scenarios: tuple[str, ...]
    outcomes: Outcomes

    @property
    def caught_by(self) -> tuple[str, ...]:
        """The scenarios that failed or errored without the check."""
        return self.outcomes.failed + self.outcomes.errors

    @property
    def caught(self) -> bool:
        return bool(self.caught_by)


def server_checks() -> list[ServerCheck]:
    """The bundled server's checks, from ``python -m reference_server --list-checks``.

    :raises SelftestError: the server would not list them, or a line is not
        ``name<TAB>ids<TAB>policy<TAB>summary`` with a policy the harness can run.
    """
    run = subprocess.run(
        [sys.executable, "-m", "reference_server", "--list-checks"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or ["no output"])[-1]
        raise SelftestError(f"the bundled server would not list its checks: {last}")
    checks = []
    for line in run.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) != 4 or parts[2] not in PROFILE_OF_POLICY or not parts[1]:
            raise SelftestError(
                f"the bundled server listed a check the harness cannot read: {line!r}"
            )
        name, ids, policy, summary = parts
        checks.append(ServerCheck(name, tuple(ids.split(",")), policy, summary))
    return checks


def choose(checks: Sequence[ServerCheck], names: Sequence[str]) -> list[ServerCheck]:
    """The checks named (all when ``names`` is empty); SelftestError for an unknown name."""
    if not names:
        return list(checks)
    known = {check.name: check for check in checks}
    for name in names:
        if name not in known:
            raise SelftestError(
                f"the bundled server has no check {name!r}; `harness selftest --list` names them"
            )
    return [known[name] for name in dict.fromkeys(names)]


def scenarios_of(check: ServerCheck, tests: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """The node ids of the tests naming any of ``check``'s requirements, without repeats."""
    return tuple(dict.fromkeys(test for req in check.requirements for test in tests.get(req, ())))


def outcomes(junit: Path) -> Outcomes:
    """Each test's outcome, by node id, from a pytest JUnit XML file."""
    sorted_out: dict[str, list[str]] = {"failure": [], "error": [], "skipped": [], "": []}
    for case in ElementTree.parse(junit).iter("testcase"):
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        sorted_out[kinds[0] if kinds else ""].append(_node_id(case))
    return Outcomes(
        failed=tuple(sorted_out["failure"]),
        errors=tuple(sorted_out["error"]),
        passed=tuple(sorted_out[""]),
        skipped=tuple(sorted_out["skipped"]),
    )


def _node_id(case: ElementTree.Element) -> str:
    """``path/to/test_file.py::Class::name`` from a JUnit ``testcase`` element."""
    classname, name = case.get("classname", ""), case.get("name", "")
    parts = classname.split(".")
    # classname is the module path with dots, then any classes: find where the file ends.
    for cut in range(len(parts), 0, -1):
        path = "/".join(parts[:cut]) + ".py"
        if (PROJECT / path).is_file():
            return "::".join([path, *parts[cut:], name])
    return f"{classname}::{name}"


def run_scenarios(
    scenarios: Sequence[str],
    policy: str,
    disabled_check: str | None,
    workdir: Path,
    pytest_args: Sequence[str] = (),
) -> Outcomes:
    """Run ``scenarios`` (node ids) in a pytest subprocess against a fresh bundled server of
    ``policy``, with ``disabled_check`` turned off (None: the honest server).

    :raises SelftestError: pytest wrote no JUnit report (it could not start).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    junit = workdir / "junit.xml"
    command = [
        sys.executable,
        "-m",
        "pytest",
        *scenarios,
        f"--rootdir={PROJECT}",
        f"--target-profile={PROFILE_OF_POLICY[policy]}",
        *([f"--disable-check={disabled_check}"] if disabled_check else []),
        f"--junitxml={junit}",
        f"--basetemp={workdir / 'tmp'}",
        "-p",
        "no:cacheprovider",
        "-q",
        *pytest_args,
    ]
    run = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, timeout=1800)
    (workdir / "pytest.log").write_text(run.stdout + run.stderr, encoding="utf-8")
    if not junit.exists():
        what = f"without {disabled_check}" if disabled_check else "against the honest server"
        raise SelftestError(
            f"pytest did not run the scenarios {what}; see {workdir / 'pytest.log'}"
        )
    return outcomes(junit)


def check_honest_server(
    checks: Iterable[ServerCheck],
    tests: Mapping[str, Sequence[str]],
    workdir: Path,
    pytest_args: Sequence[str] = (),
) -> None:
    """Every scenario the self-test will use passes against the honest server, per policy.

    :raises SelftestError: some fail or error there; they cannot show a check missing.
    """
    by_policy: dict[str, dict[str, None]] = {}
    for check in checks:
        by_policy.setdefault(check.policy, {}).update(dict.fromkeys(scenarios_of(check, tests)))
    for policy, scenarios in by_policy.items():
        if not scenarios:
            continue
        result = run_scenarios(
            list(scenarios), policy, None, workdir / f"honest-{policy}", pytest_args
        )
        broken = result.failed + result.errors
        if broken:
            raise SelftestError(
                f"{len(broken)} scenario(s) fail against the honest server ({policy} policy),"
                f" so they cannot show a check missing; first: {broken[0]}"
            )


def run_selftest(
    checks: Sequence[ServerCheck],
    tests: Mapping[str, Sequence[str]],
    workdir: Path,
    jobs: int,
    pytest_args: Sequence[str] = (),
    progress: Callable[[Verdict], None] = lambda verdict: None,
) -> list[Verdict]:
    """Each check turned off in turn (``jobs`` servers at once), with its scenarios run."""

    def verdict(check: ServerCheck) -> Verdict:
        scenarios = scenarios_of(check, tests)
        if not scenarios:
            result = Outcomes((), (), (), ())
        else:
            result = run_scenarios(
                scenarios, check.policy, check.name, workdir / check.name, pytest_args
            )
        found = Verdict(check, scenarios, result)
        progress(found)
        return found

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(verdict, checks))


def table(verdicts: Sequence[Verdict]) -> str:
    """The report: per check, its requirements and the scenarios that caught it missing."""
    width = max([len("check")] + [len(v.check.name) for v in verdicts])
    lines = [f"{'check':<{width}}  caught by"]
    for v in verdicts:
        ids = ", ".join(v.check.requirements)
        if v.caught:
            head = f"{len(v.caught_by)} of {len(v.scenarios)} scenarios ({ids})"
        elif not v.scenarios:
            head = f"NOT CAUGHT: no scenario names {ids}"
        else:
            head = f"NOT CAUGHT: all {len(v.scenarios)} scenarios of {ids} passed"
        lines.append(f"{v.check.name:<{width}}  {head}")
        lines.extend(f"{'':<{width}}    {node}" for node in v.outcomes.failed)
        lines.extend(f"{'':<{width}}    (error) {node}" for node in v.outcomes.errors)
    caught = sum(v.caught for v in verdicts)
    missed = len(verdicts) - caught
    lines.append(f"\n{len(verdicts)} checks turned off in turn: {caught} caught, {missed} not")
    return "\n".join(lines)


def default_jobs() -> int:
    """One server and pytest per CPU."""
    return os.cpu_count() or 1


def new_workdir() -> Path:
    """A fresh folder for the runs' logs and reports."""
    return Path(tempfile.mkdtemp(prefix="harness-selftest-"))
