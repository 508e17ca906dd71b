"""The report's pieces on their own: verdicts, the summaries, the matrix page, the environment,
the Allure labels and the live progress."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from harness.catalogue import Catalogue
from harness.report.environment import RunEnvironment
from harness.report.labels import allure_marks, suite_of
from harness.report.matrix import write_matrix
from harness.report.progress import Progress
from harness.report.results import Status, Step, TestOutcome, verdicts
from harness.report.summary import PRIVATE, SUMMARY, write_summaries

SECURITY = "TOTP-REPLAY-01"
FUNCTIONAL = "ACCOUNT-REGISTER-01"
OTHER_SECURITY = "RECOVERY-SINGLE-USE-01"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.load()


def outcome(
    nodeid: str, status: Status, *requirements: str, message: str = "", authenticator: str = ""
) -> TestOutcome:
    return TestOutcome(
        nodeid=nodeid,
        status=status,
        message=message,
        description="",
        requirements=requirements,
        suite="totp",
        authenticator=authenticator,
        browser="",
        steps=(Step("LoginPage: password step", "passed", 0), Step("POST /x", "failed", 1)),
        attachments=(),
    )


def environment() -> RunEnvironment:
    return RunEnvironment(
        target="http://localhost:1",
        profile="reference",
        policy="current",
        browser="Chromium 1",
        authenticator="soft",
        harness_version="0.1.0",
        started="2026-11-27T00:00:00+00:00",
        command="harness run",
    )


def verdict_of(catalogue: Catalogue, requirement: str, *tests: TestOutcome) -> Status:
    [found] = [v for v in verdicts(catalogue, tests) if v.requirement.id == requirement]
    return found.status


def test_one_failed_test_fails_its_requirement_whatever_else_passed(catalogue) -> None:
    tests = [
        outcome("a", Status.PASSED, SECURITY),
        outcome("b", Status.ERROR, SECURITY),
        outcome("c", Status.FAILED, SECURITY),
    ]
    assert verdict_of(catalogue, SECURITY, *tests) is Status.FAILED


def test_an_error_without_a_failure_leaves_the_requirement_unchecked(catalogue) -> None:
    tests = [outcome("a", Status.PASSED, SECURITY), outcome("b", Status.ERROR, SECURITY)]
    assert verdict_of(catalogue, SECURITY, *tests) is Status.ERROR


def test_a_requirement_whose_tests_all_skipped_is_skipped(catalogue) -> None:
    assert verdict_of(catalogue, SECURITY, outcome("a", Status.SKIPPED, SECURITY)) is (
        Status.SKIPPED
    )


def test_a_requirement_no_test_of_the_run_checks_was_not_run(catalogue) -> None:
    assert verdict_of(catalogue, SECURITY) is Status.NOT_RUN


def test_security_failures_go_to_the_private_file_only(tmp_path: Path, catalogue) -> None:
    tests = [
        outcome("t::replay", Status.FAILED, SECURITY, message="replayed code accepted"),
        outcome("t::verify", Status.FAILED, FUNCTIONAL, message="valid code refused"),
    ]
    written = write_summaries(tmp_path, environment(), verdicts(catalogue, tests))
    assert written == [tmp_path / SUMMARY, tmp_path / PRIVATE]
    summary = (tmp_path / SUMMARY).read_text()
    private = (tmp_path / PRIVATE).read_text()
    assert SECURITY not in summary and "replayed code accepted" not in summary
    assert "1 security requirement failed" in summary
    assert f"### {FUNCTIONAL}:" in summary and "valid code refused" in summary
    assert f"### {SECURITY}:" in private and "replayed code accepted" in private
    assert FUNCTIONAL not in private
    assert private.startswith("# SECURITY: send this file privately")


def test_a_failure_in_the_summary_says_how_to_reproduce_it(tmp_path: Path, catalogue) -> None:
    tests = [outcome("t::verify", Status.FAILED, FUNCTIONAL, message="valid code refused")]
    write_summaries(tmp_path, environment(), verdicts(catalogue, tests))
    summary = (tmp_path / SUMMARY).read_text()
    requirement = catalogue[FUNCTIONAL]
    assert f"- Source: {requirement.source}" in summary
    assert f"`harness run --requirement {FUNCTIONAL}`" in summary
    assert "1. LoginPage: password step\n   1. POST /x **(failed)**" in summary
    assert "| Target | http://localhost:1 |" in summary


def test_without_a_security_failure_there_is_no_private_file(tmp_path: Path, catalogue) -> None:
    tests = [outcome("t::replay", Status.PASSED, SECURITY)]
    assert write_summaries(tmp_path, environment(), verdicts(catalogue, tests)) == [
        tmp_path / SUMMARY
    ]
    assert not (tmp_path / PRIVATE).exists()


def test_skipped_requirements_are_listed_with_their_reasons(tmp_path: Path, catalogue) -> None:
    tests = [outcome("t::a", Status.SKIPPED, SECURITY, message="Skipped: needs the test hooks")]
    write_summaries(tmp_path, environment(), verdicts(catalogue, tests))
    assert f"- {SECURITY}: needs the test hooks" in (tmp_path / SUMMARY).read_text()


def test_the_matrix_has_a_column_per_authenticator_and_escapes_what_it_shows(
    tmp_path: Path, catalogue
) -> None:
    tests = [
        outcome("t::a[soft]", Status.PASSED, SECURITY, authenticator="soft"),
        outcome("t::a[ctap]", Status.FAILED, SECURITY, message="<b>bad</b>", authenticator="ctap"),
    ]
    page = write_matrix(tmp_path / "m.html", environment(), verdicts(catalogue, tests)).read_text()
    assert "<th>ctap<br>no browser</th>" in page and "<th>soft<br>no browser</th>" in page
    assert "&lt;b&gt;bad&lt;/b&gt;" in page and "<b>bad</b>" not in page
    assert '<td class="failed"><details><summary>failed (1 of 1)' in page


def test_the_environment_reads_back_as_written(tmp_path: Path) -> None:
    written = RunEnvironment(**{**vars(environment()), "command": "harness run -- -k 'a\\b'\nx"})
    written.write(tmp_path)
    read = RunEnvironment.read(tmp_path)
    assert read.command == "harness run -- -k 'a\\b' x"
    assert read.target == written.target
    assert (tmp_path / "categories.json").is_file()


def test_a_test_is_in_the_suite_of_its_folder_under_scenarios() -> None:
    assert suite_of("scenarios/totp/test_totp_login.py::TestX::test_y[a/b]") == "totp"
    assert suite_of("tests/harness/test_report.py::test_x") is None
    assert suite_of("scenarios/test_top.py::test_x") is None


def test_a_test_of_several_severities_is_labelled_with_the_worst(catalogue) -> None:
    marks = allure_marks((catalogue[FUNCTIONAL], catalogue[SECURITY]), "totp")
    labels = {(mark.kwargs["label_type"], mark.args[0]) for mark in marks}
    assert ("severity", "critical") in labels
    assert {("requirement", FUNCTIONAL), ("requirement", SECURITY)} <= labels
    assert ("feature", "totp") in labels


def report(nodeid: str, when: str, outcome: str) -> pytest.TestReport:
    return pytest.TestReport(nodeid, ("f", 1, "t"), {}, outcome, None, when)


def test_progress_redraws_a_line_per_suite_with_its_counts() -> None:
    out = io.StringIO()
    progress = Progress(out)
    ids = [
        "scenarios/totp/test_a.py::t1",
        "scenarios/totp/test_a.py::t2",
        "scenarios/webauthn/t.py::t",
    ]
    progress.expect(ids)
    progress.pytest_runtest_logreport(report(ids[0], "call", "passed"))
    progress.pytest_runtest_logreport(report(ids[2], "setup", "skipped"))
    progress.pytest_runtest_logreport(report(ids[1], "call", "failed"))
    progress.pytest_runtest_logreport(report(ids[1], "teardown", "passed"))
    last_block = out.getvalue().split("\x1b[2F")[-1]
    lines = [line.removeprefix("\x1b[K").split() for line in last_block.splitlines()]
    assert [line[:8] for line in lines] == [
        ["totp", "2/2", "1", "passed", "1", "failed", "0", "skipped"],
        ["webauthn", "1/1", "0", "passed", "0", "failed", "1", "skipped"],
    ]
