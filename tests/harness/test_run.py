"""``harness run`` end to end, as a tester or CI runs it: the exit status, the report's files,
the evidence of a failure, the private file for security failures, and no secret anywhere."""

from __future__ import annotations

import glob
import json
import os
import socket
import subprocess
import sys
import threading
import zipfile
from base64 import b64encode
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from harness.report.allure_html import allure_command

PROJECT = Path(__file__).resolve().parents[2]
SINGLE_USE_SCENARIOS = "TestRecoveryCodeJourney"
"""The browser journey of a recovery code, which uses it twice: with the bundled server's
``recovery-code-single-use`` check off, its second use is accepted and the scenario fails."""


def harness_run(
    *arguments: str, reports: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", f"--reports={reports}", *arguments],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


def allure_results(folder: Path) -> list[dict]:
    return [
        json.loads(path.read_text()) for path in (folder / "allure-results").glob("*-result.json")
    ]


def test_an_unreachable_target_stops_the_run_with_one_line(tmp_path: Path) -> None:
    url = f"http://localhost:{closed_port()}"
    run = harness_run(f"--base-url={url}", reports=tmp_path)
    assert run.returncode == 2
    assert run.stderr.splitlines() == [
        f"harness: error: the target {url} is unreachable (connection refused)"
    ]
    assert not any(tmp_path.iterdir()), "no report folder is left for a run that never started"


class RecordingProxy:
    """An HTTP(S) proxy on localhost that records the first line of each request sent through
    it and answers 502: with ``HTTP(S)_PROXY`` pointing at it, every request the harness sends
    to a remote host passes here, and none reaches the host."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self._server = socket.create_server(("localhost", 0))
        self.url = f"http://localhost:{self._server.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            with connection:
                self.requests.append(connection.makefile("rb").readline().decode().strip())
                connection.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")

    def environment(self) -> dict[str, str]:
        proxied = {name: self.url for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")}
        return {**os.environ, **proxied, "NO_PROXY": ""}

    def close(self) -> None:
        self._server.close()


@pytest.fixture
def proxy() -> Iterator[RecordingProxy]:
    recording = RecordingProxy()
    yield recording
    recording.close()


def test_the_production_index_is_refused_before_any_request_whatever_the_flags(
    tmp_path: Path, proxy: RecordingProxy
) -> None:
    run = harness_run(
        "--base-url=https://pypi.org",
        "--allow-destructive",
        "--suite=projects",
        reports=tmp_path,
        env=proxy.environment(),
    )
    assert run.returncode == 2
    assert run.stderr.splitlines() == [
        "harness: error: pypi.org is the production index: destructive scenarios never run"
        " there, and neither does harness run: its suites change accounts and projects; aim it"
        " at test.pypi.org or a staging deploy"
    ]
    assert proxy.requests == []
    assert not any(tmp_path.iterdir())


def test_a_staging_host_is_reached_through_the_same_proxy(
    tmp_path: Path, proxy: RecordingProxy
) -> None:
    """The twin of the refusal above: the proxy does see the harness's requests."""
    run = harness_run(
        "--base-url=https://staging.example.invalid", reports=tmp_path, env=proxy.environment()
    )
    assert run.returncode == 2
    assert proxy.requests and "staging.example.invalid" in proxy.requests[0]


@pytest.mark.skipif(bool(glob.glob("/dev/hidraw*")), reason="a HID device is plugged in here")
def test_authenticator_hid_without_a_key_stops_the_run_with_one_line(tmp_path: Path) -> None:
    run = harness_run("--authenticator=hid", reports=tmp_path)
    assert run.returncode == 2
    assert run.stderr.splitlines() == [
        "harness: error: --authenticator hid: no security key found: plug one in (on Linux,"
        " /dev/hidraw* must be yours: see the README's tester guide for the udev rule)"
    ]
    assert not any(tmp_path.iterdir()), "no report folder is left for a run that never started"


def test_a_bad_option_is_refused_in_one_line(tmp_path: Path) -> None:
    run = harness_run("--workers=0", reports=tmp_path)
    assert run.returncode == 2
    assert run.stderr.splitlines()[-1] == (
        "harness run: error: argument --workers: a number of 1 or more, or auto, not '0'"
    )


def recovery_code_journeys(
    tmp_path_factory: pytest.TempPathFactory, *options: str
) -> tuple[subprocess.CompletedProcess, Path]:
    reports = tmp_path_factory.mktemp("reports")
    run = harness_run(
        "--suite=journeys",
        "--workers=1",
        *options,
        "--",
        "-k",
        SINGLE_USE_SCENARIOS,
        reports=reports,
    )
    return run, reports / "latest"


@pytest.fixture(scope="module")
def honest_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess, Path]:
    return recovery_code_journeys(tmp_path_factory)


@pytest.fixture(scope="module")
def failing_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess, Path]:
    return recovery_code_journeys(tmp_path_factory, "--disable-check=recovery-code-single-use")


def test_a_run_that_meets_every_requirement_exits_0_with_its_report(honest_run) -> None:
    run, folder = honest_run
    assert run.returncode == 0, run.stdout + run.stderr
    for name in ("index.html", "junit.xml", "summary.md", "matrix.html"):
        assert (folder / name).is_file(), name
    assert not (folder / "SECURITY-PRIVATE.md").exists()
    assert "RECOVERY-SINGLE-USE-01" not in (folder / "summary.md").read_text()
    if allure_command() is not None:
        assert "index.html is the matrix page" not in run.stdout
        assert "conformance matrix</title>" not in (folder / "index.html").read_text()
    assert f"report: {folder.resolve() / 'index.html'}" in run.stdout


def test_a_failed_security_requirement_exits_1_and_goes_to_the_private_file(failing_run) -> None:
    run, folder = failing_run
    assert run.returncode == 1, run.stdout + run.stderr
    private = (folder / "SECURITY-PRIVATE.md").read_text()
    summary = (folder / "summary.md").read_text()
    assert private.startswith("# SECURITY: send this file privately")
    assert "### RECOVERY-SINGLE-USE-01:" in private
    assert "test_used_recovery_code_is_refused_on_the_page" in private
    assert "RECOVERY-SINGLE-USE-01" not in summary
    assert "test_used_recovery_code_is_refused_on_the_page" not in summary
    assert "1 security requirement failed" in summary
    assert "SECURITY-PRIVATE.md" in run.stdout


def test_a_failed_browser_scenario_keeps_a_screenshot_and_a_trace(failing_run) -> None:
    _, folder = failing_run
    [failed] = [result for result in allure_results(folder) if result["status"] == "failed"]
    kinds = {attachment["type"] for attachment in failed["attachments"]}
    assert {"image/png", "application/zip", "text/plain"} <= kinds
    [trace] = [a for a in failed["attachments"] if a["type"] == "application/zip"]
    with zipfile.ZipFile(folder / "allure-results" / trace["source"]) as opened:
        names = opened.namelist()
    assert "trace.trace" in names and "trace.network" in names
    assert not [name for name in names if name.endswith((".jpeg", ".png", ".svg"))]
    labels = {(label["name"], label["value"]) for label in failed["labels"]}
    assert ("requirement", "RECOVERY-SINGLE-USE-01") in labels
    assert ("feature", "journeys") in labels
    assert ("severity", "critical") in labels
    assert failed["statusDetails"]["trace"].startswith("checks RECOVERY-SINGLE-USE-01 [security]")
    assert any(step["name"].startswith("RecoveryCodeLoginPage") for step in failed["steps"])


def test_junit_names_each_tests_requirements(failing_run) -> None:
    _, folder = failing_run
    junit = (folder / "junit.xml").read_text()
    assert '<property name="requirements" value="RECOVERY-LOGIN-01" />' in junit
    assert "checks RECOVERY-SINGLE-USE-01 [security]" in junit


PLANTED = """
import json, logging, os

import pytest

from harness.pages import LoginPage


@pytest.mark.requirement("SESSION-ROTATE-01")
def test_planted_secrets_in_every_kind_of_output(make_account, client, new_context, target):
    account = make_account(totp=True, recovery_codes=True)
    client.login(account.username, account.password)
    context = new_context(base_url=target.base_url)
    page = context.new_page()
    LoginPage(page).password_step(account.username, account.password)
    page.fill("#totp_value", "123456")
    browser_cookie = next(c["value"] for c in context.cookies() if c["name"] == "session_id")
    planted = {
        "password": account.password,
        "totp seed": account.totp.secret,
        "recovery code": account.recovery_codes[0],
        "client session cookie": client.session_id,
        "browser session cookie": browser_cookie,
    }
    with open(os.environ["PLANTED_SECRETS"], "a") as record:
        record.write(json.dumps({k: str.__str__(v) for k, v in planted.items()}) + "\\n")
    print("stdout:", *planted.values())
    logging.getLogger("planted").warning("log: %s", " ".join(planted.values()))
    pytest.fail("message: " + " ".join(planted.values()))
"""


def forms(value: str) -> set[str]:
    return {value, quote(value, safe=""), quote_plus(value), b64encode(value.encode()).decode()}


def every_text(folder: Path):
    """Each file's bytes under ``folder``, and each member's of every zip, decompressed."""
    for path in folder.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        data = path.read_bytes()
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as opened:
                for member in opened.namelist():
                    yield f"{path}!{member}", opened.read(member)
        else:
            yield str(path), data


def test_no_planted_secret_reaches_any_report_file(tmp_path: Path) -> None:
    scenarios = tmp_path / "planted"
    scenarios.mkdir()
    (scenarios / "test_planted.py").write_text(PLANTED)
    (scenarios / "test_planted_again.py").write_text(PLANTED)
    record = tmp_path / "planted.jsonl"
    reports = tmp_path / "reports"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "run",
            f"--reports={reports}",
            f"--scenarios={scenarios}",
            "--workers=2",
        ],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**__import__("os").environ, "PLANTED_SECRETS": str(record)},
    )
    assert run.returncode == 1, run.stdout + run.stderr
    planted = [json.loads(line) for line in record.read_text().splitlines()]
    assert len(planted) == 2, "each worker planted its own secrets"
    files = dict(every_text(reports))
    assert any(name.endswith("!trace.network") for name in files), "a trace was kept"
    assert any(b"message: " in data for data in files.values()), "the failure was reported"
    for secrets in planted:
        for kind, value in secrets.items():
            for form in forms(value):
                leaks = [name for name, data in files.items() if form.encode() in data]
                assert not leaks, f"the {kind} is in {leaks}"
