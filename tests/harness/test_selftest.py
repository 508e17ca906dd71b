"""``harness selftest``: every security check of the bundled server, turned off in turn, is
noticed by a scenario naming its requirement; a check nobody notices fails the self-test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.collection import collect_tests_by_requirement
from harness.selftest import ServerCheck, Verdict, run_scenarios, scenarios_of, server_checks

PROJECT = Path(__file__).resolve().parents[2]

# A scenario that names the honeypot requirement but cannot notice the check missing: it never
# registers.
BLIND_SCENARIO = """
import pytest


@pytest.mark.protocol
@pytest.mark.requirement("ACCOUNT-REGISTER-02")
def test_home_page_answers(client):
    assert client.get("/").status == 200
"""


def selftest(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", "selftest", *args],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=1800,
    )


@pytest.fixture(scope="module")
def tests_of_requirements() -> dict[str, list[str]]:
    return collect_tests_by_requirement(PROJECT / "scenarios")


@pytest.mark.parametrize("check", server_checks(), ids=lambda check: check.name)
def test_scenarios_naming_its_requirements_catch_the_server_without_the_check(
    check: ServerCheck, tests_of_requirements: dict[str, list[str]], tmp_path: Path
) -> None:
    """The main suite is each check's honest twin: there the same scenarios pass. Browser
    scenarios are left out here, and the run stops at the first scenario that notices, to spare
    CI's two cores; `harness selftest` runs them all and names every scenario that noticed."""
    scenarios = scenarios_of(check, tests_of_requirements)
    assert scenarios, f"no scenario names {check.requirements}"
    narrower = ["-m", "not browser", "--maxfail=1"]
    outcomes = run_scenarios(scenarios, check.policy, check.name, tmp_path, narrower)
    verdict = Verdict(check, scenarios, outcomes)
    assert verdict.caught, (tmp_path / "pytest.log").read_text()[-3000:]


def test_selftest_prints_each_check_with_the_scenarios_that_caught_it() -> None:
    result = selftest(
        "--check", "session-rotation", "--check", "totp-removal-password", "--jobs", "2"
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert any(
        line.startswith("session-rotation ") and " scenarios (SESSION-FIXATION-01" in line
        for line in lines
    )
    assert "scenarios/accounts/test_login_and_sessions.py::TestSession::" in result.stdout
    assert any(line.startswith("totp-removal-password ") for line in lines)
    assert "2 checks turned off in turn: 2 caught, 0 not" in result.stdout


def test_a_check_that_no_scenario_notices_fails_the_selftest(tmp_path: Path) -> None:
    (tmp_path / "test_blind.py").write_text(BLIND_SCENARIO, encoding="utf-8")
    result = selftest(
        "--check", "registration-honeypot", "--scenarios", str(tmp_path), "--jobs", "1"
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "NOT CAUGHT: all 1 scenarios of ACCOUNT-REGISTER-02 passed" in result.stdout
    assert "1 checks turned off in turn: 0 caught, 1 not" in result.stdout


def test_a_check_with_no_scenario_at_all_fails_the_selftest(tmp_path: Path) -> None:
    result = selftest(
        "--check", "registration-honeypot", "--scenarios", str(tmp_path), "--jobs", "1"
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "NOT CAUGHT: no scenario names ACCOUNT-REGISTER-02" in result.stdout


def test_an_unknown_check_gives_one_line_and_status_2() -> None:
    result = selftest("--check", "no-such-check")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "harness: error: the bundled server has no check 'no-such-check';"
        " `harness selftest --list` names them"
    )


def test_list_names_every_check_with_its_requirements() -> None:
    result = selftest("--list")
    assert result.returncode == 0
    for check in server_checks():
        assert f"{check.name}  [{check.policy}]  {', '.join(check.requirements)}" in result.stdout
