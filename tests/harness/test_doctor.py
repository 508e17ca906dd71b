"""``harness doctor``: each check says in one line what it found, and the exit code tells whether
a run can work. The runs below start the real bundled server, Chromium and HTTP servers."""

from __future__ import annotations

import argparse
import glob
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Playwright

from harness import doctor
from harness.doctor import Finding, check_origin, describe_key, format_finding
from virtual_authenticators.ctap import AAGUID, SoftCtapDevice
from virtual_authenticators.ctaphid import soft_hid_device
from virtual_authenticators.u2f import SoftU2fDevice


def run_doctor(*argv: str) -> tuple[int, dict[str, str]]:
    """Run ``harness doctor`` with ``argv`` as a tester does, in a process of its own (it starts
    Playwright, which a test worker's own Playwright would refuse); its exit code and its lines
    by check name (each line as printed)."""
    run = subprocess.run(
        [sys.executable, "-m", "harness.cli", "doctor", *argv],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Traceback" not in run.stdout + run.stderr
    lines = run.stdout.splitlines()
    by_name = {line[9:].split(":", 1)[0]: line for line in lines}
    assert len(by_name) == len(lines), "one line per check"
    return run.returncode, by_name


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"hello"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def local_port() -> Iterator[int]:
    """The port of a tiny HTTP server on 127.0.0.1, answering 200 to every GET."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join()


def test_doctor_finds_everything_a_run_against_the_bundled_server_needs() -> None:
    status, lines = run_doctor()
    assert status == 0
    # The packages may be a warning: an editable install older than pyproject.toml still runs.
    assert not lines["python packages"].startswith("missing")
    for name in ("browser", "target", "origin", "mail"):
        assert lines[name].startswith("ok       "), lines[name]
    assert "bundled reference server starts" in lines["target"]
    assert "security keys" not in lines


def test_unreachable_base_url_is_named_with_the_reason() -> None:
    status, lines = run_doctor("--base-url", "http://localhost:9")
    assert status == 1
    assert lines["target"] == (
        "missing  target: http://localhost:9 is unreachable (connection refused)."
        " Fix: check --base-url and that the server is up"
    )


def test_ip_address_base_url_answers_but_cannot_be_a_webauthn_origin(local_port: int) -> None:
    status, lines = run_doctor("--base-url", f"http://127.0.0.1:{local_port}")
    assert status == 1
    assert lines["target"].startswith(
        f"ok       target: http://127.0.0.1:{local_port} answers HTTP 200"
    )
    assert lines["origin"] == (
        f"missing  origin: http://127.0.0.1:{local_port}: WebAuthn refuses IP addresses as"
        f" relying party ids. Fix: use http://localhost:{local_port}"
    )


def test_base_url_without_a_mailbox_warns_that_mail_scenarios_skip(
    local_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HARNESS_IMAP_URL", raising=False)
    status, lines = run_doctor("--base-url", f"http://localhost:{local_port}")
    assert status == 0
    assert lines["mail"].startswith("warning  mail: no mailbox")
    assert lines["mail"].endswith("Fix: set HARNESS_IMAP_URL and HARNESS_MAIL_ADDRESS")


def test_unknown_target_profile_is_one_line_and_exit_1() -> None:
    status, lines = run_doctor("--target-profile", "nosuch")
    assert status == 1
    assert lines["target"].startswith(
        "missing  target: unknown target profile 'nosuch': use one of reference, reference-2019"
    )


@pytest.mark.skipif(bool(glob.glob("/dev/hidraw*")), reason="a HID device is plugged in here")
def test_keys_without_a_key_plugged_in_is_missing(local_port: int) -> None:
    status, lines = run_doctor("--keys", "--base-url", f"http://localhost:{local_port}")
    assert status == 1
    assert lines["security keys"].startswith("missing  security keys: no security key found")


def test_webkit_not_installed_says_how_to_install_it(playwright: Playwright) -> None:
    webkit = Path(playwright.webkit.executable_path)
    if webkit.exists():
        pytest.skip(f"Playwright's webkit is installed here ({webkit})")
    status, lines = run_doctor("--browser", "webkit", "--base-url", "http://localhost:9")
    assert status == 1
    assert lines["browser"].startswith("missing  browser: Playwright's webkit is not installed")
    assert "Fix: playwright install webkit" in lines["browser"]


def test_browser_outside_the_three_is_refused_by_the_parser() -> None:
    parser = argparse.ArgumentParser()
    doctor.add_arguments(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(["--browser", "opera"])


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("https://test.pypi.org/", "ok"),
        ("http://localhost:8000", "ok"),
        ("http://pypi.localhost:8000/", "ok"),
        ("http://127.0.0.1:8000", "missing"),
        ("https://[::1]:8443/", "missing"),
        ("http://example.com", "missing"),
        ("ftp://localhost/", "missing"),
    ],
)
def test_webauthn_origin_needs_a_secure_context_and_a_domain(url: str, status: str) -> None:
    assert check_origin(url).status == status


def test_plain_http_origin_elsewhere_than_localhost_is_not_a_secure_context() -> None:
    assert (
        "only in a secure context: https, or localhost" in check_origin("http://example.com").detail
    )


def test_ctap2_key_is_described_by_its_info() -> None:
    assert describe_key(SoftCtapDevice(), "Soft Key") == (
        f"Soft Key: CTAP2 (FIDO_2_0, FIDO_2_1), AAGUID {AAGUID}, no PIN support"
    )


def test_u2f_only_key_is_described_as_such() -> None:
    key = soft_hid_device(SoftU2fDevice())
    assert describe_key(key, None) == "unnamed key: U2F only (CTAP1), no CTAP2"


def test_finding_line_gives_the_fix_only_when_not_ok() -> None:
    assert format_finding(Finding("node", "ok", "Node.js v20", "unused")) == (
        "ok       node: Node.js v20"
    )
    assert format_finding(Finding("node", "warning", "not found\nat all", "install it")) == (
        "warning  node: not found at all. Fix: install it"
    )


def test_check_that_raises_becomes_a_missing_line_naming_the_error() -> None:
    def broken() -> Finding:
        raise RuntimeError("the check broke\nsecond line")

    assert doctor._guarded("broken", broken) == Finding(
        "broken", "missing", "RuntimeError: the check broke"
    )


@pytest.fixture
def no_tester(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("HARNESS_USERNAME", "HARNESS_PASSWORD", "HARNESS_TOTP_SECRET", "HARNESS_ENV_FILE"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_a_staging_target_without_a_tester_account_warns_that_its_scenarios_skip(
    no_tester: pytest.MonkeyPatch,
) -> None:
    finding = doctor.check_tester_account("https://staging.example")
    assert (finding.status, finding.detail) == (
        "warning",
        "no tester account: the scenarios of scenarios/staging will skip",
    )


def test_a_tester_account_is_named_without_its_secrets(no_tester: pytest.MonkeyPatch) -> None:
    no_tester.setenv("HARNESS_USERNAME", "beta-tester")
    no_tester.setenv("HARNESS_PASSWORD", "hunter2-but-longer")
    no_tester.setenv("HARNESS_TOTP_SECRET", "JBSWY3DPEHPK3PXP")
    line = format_finding(doctor.check_tester_account("https://staging.example"))
    assert line == "ok       account: tester account beta-tester, with a TOTP seed"


def test_a_password_without_a_username_is_missing_in_one_line(
    no_tester: pytest.MonkeyPatch,
) -> None:
    no_tester.setenv("HARNESS_PASSWORD", "hunter2-but-longer")
    finding = doctor.check_tester_account("https://staging.example")
    assert finding.status == "missing"
    assert "HARNESS_USERNAME" in finding.detail
    assert "hunter2" not in format_finding(finding)
