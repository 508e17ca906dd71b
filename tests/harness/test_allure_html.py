"""The HTML report: Allure 3's CLI renders a real allure-pytest run into one ``index.html`` that
opens from ``file://`` with nothing fetched from the network. Rendering runs the installed CLI
under node; the error paths stand a small Python script in for it."""

from __future__ import annotations

import base64
import json
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from harness.errors import HarnessError
from harness.report import allure_html

PASSING = "test_login_accepts_the_current_totp_code_zebra"
FAILING = "test_recovery_code_is_refused_the_second_time_quokka"
TESTS = f"""
def {PASSING}():
    assert True


def {FAILING}():
    assert "used" == "fresh", "the recovery code was accepted twice"
"""
# The single-file page carries each report file as base64 JSON: d("data/...json","eyJ...").
EMBEDDED_FILE = re.compile(r'd\("([^"]+)","([A-Za-z0-9+/=]*)"\)')

needs_node = pytest.mark.skipif(
    shutil.which("node") is None, reason="node is not on PATH: Allure 3's CLI runs on it"
)


@pytest.fixture
def results(pytester: pytest.Pytester) -> Path:
    """allure-pytest's results of one passing and one failing test."""
    folder = pytester.path / "allure-results"
    pytester.makepyfile(TESTS)
    pytester.runpytest_subprocess(f"--alluredir={folder}").assert_outcomes(passed=1, failed=1)
    return folder


@pytest.fixture
def report(results: Path, tmp_path: Path) -> Path:
    return allure_html.render(results, tmp_path / "html", title="Login and 2FA conformance")


@pytest.fixture
def report_page(report: Path, browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    """The report opened from ``file://`` in headless Chromium, and every URL it requested."""
    # pytest-playwright's browser: a second Playwright in one process is refused.
    context = browser.new_context()
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(report.as_uri())
    yield page, requested
    context.close()


def fake_cli(monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    """Make ``script`` (Python) stand in for Allure's CLI."""
    monkeypatch.setattr(allure_html, "allure_command", lambda: [sys.executable, "-c", script])


def error_of(results: Path, output: Path, **options: float) -> str:
    with pytest.raises(HarnessError) as raised:
        allure_html.render(results, output, title="t", **options)
    message = str(raised.value)
    assert "\n" not in message
    return message


@needs_node
def test_report_is_one_index_html_holding_each_test_with_its_status(report: Path) -> None:
    assert report.name == "index.html"
    assert not list(report.parent.glob("*.js")) and not list(report.parent.glob("*.css"))
    embedded = {
        name: json.loads(base64.b64decode(data))
        for name, data in EMBEDDED_FILE.findall(report.read_text(encoding="utf-8"))
    }
    statuses = {
        result["name"]: result["status"]
        for name, result in embedded.items()
        if name.startswith("data/test-results/")
    }
    assert statuses == {PASSING: "passed", FAILING: "failed"}


@needs_node
def test_report_keeps_no_analytics_tag(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    assert "googletagmanager" not in html
    assert "gtag(" not in html


@needs_node
def test_report_opened_from_file_shows_the_failing_test(
    report_page: tuple[Page, list[str]],
) -> None:
    page, _ = report_page
    expect(page.get_by_text(FAILING, exact=True)).to_be_visible()


@needs_node
def test_report_opened_from_file_requests_nothing_from_the_network(
    report_page: tuple[Page, list[str]],
) -> None:
    page, requested = report_page
    expect(page.get_by_text(PASSING, exact=True)).to_be_visible()
    assert [url for url in requested if not url.startswith(("file:", "data:"))] == []


def test_render_without_the_cli_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(allure_html, "allure_command", lambda: None)
    message = error_of(tmp_path, tmp_path / "html")
    assert "npm ci --prefix harness/report/allure" in message
    assert "./tasks run" in message


def test_render_of_an_empty_results_folder_says_there_is_nothing_to_render(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake_cli(monkeypatch, "raise SystemExit('the CLI must not run')")
    (tmp_path / "allure-results").mkdir()
    message = error_of(tmp_path / "allure-results", tmp_path / "html")
    assert message == f"no allure results to render in {tmp_path / 'allure-results'}"


def test_render_of_a_missing_results_folder_says_there_is_nothing_to_render(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake_cli(monkeypatch, "raise SystemExit('the CLI must not run')")
    message = error_of(tmp_path / "nowhere", tmp_path / "html")
    assert message == f"no allure results to render in {tmp_path / 'nowhere'}"


def test_render_refuses_an_output_folder_that_holds_files(
    monkeypatch: pytest.MonkeyPatch, results: Path, tmp_path: Path
) -> None:
    fake_cli(monkeypatch, "raise SystemExit('the CLI must not run')")
    (tmp_path / "html").mkdir()
    (tmp_path / "html" / "old.txt").write_text("an earlier report")
    assert "is not empty" in error_of(results, tmp_path / "html")


def test_failing_cli_is_reported_with_the_last_line_of_its_stderr(
    monkeypatch: pytest.MonkeyPatch, results: Path, tmp_path: Path
) -> None:
    fake_cli(monkeypatch, "import sys; sys.exit('reading results\\nresults unreadable')")
    message = error_of(results, tmp_path / "html")
    assert message.endswith("(exit 1): results unreadable")


def test_cli_that_hangs_is_stopped_at_the_timeout(
    monkeypatch: pytest.MonkeyPatch, results: Path, tmp_path: Path
) -> None:
    fake_cli(monkeypatch, "import time; time.sleep(60)")
    message = error_of(results, tmp_path / "html", timeout=0.5)
    assert message == f"Allure's CLI did not render {results} within 0.5 s"
