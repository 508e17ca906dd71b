"""Figure 2, the harness's overhead per browser scenario against a bare Playwright script.

The scenario: a TOTP account logs in through the pages, in a new browser context: open the
login page, fill username and password, submit, fill the code on the two-factor page, submit,
see the user indicator.

- Harness: a pytest run (a subprocess) of a tiny scenario module written for the occasion,
  one test per account, using the harness's plugin as every scenario does (pytest-playwright's
  ``page`` with the harness's launch flags, the console recorder, the makereport and teardown
  hooks, cookie masking) and its page objects (``LoginPage.password_step``,
  ``TwoFactorPage.submit_totp``, each method an Allure step). Per scenario: setup + call +
  teardown of one test as pytest reports them; the first test, which also launches the
  browser, is left out. pytest's start-up and collection are not counted (they are shown
  apart, as the whole run's time).
- Bare: ``sync_playwright`` launching the same Chromium with the same flags once, then per
  scenario a new context and page, the same steps with ``page.fill``/``page.click``, and the
  context closed; the first is left out as a warm-up.

Allure writes no results in either (no ``--alluredir``, as in a plain pytest run; ``harness
run`` sets one), and evidence is kept only for failures.

Both log in to one bundled server started here, with accounts made beforehand (one per
login, each logging in once with its current code).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pyotp
from playwright.sync_api import sync_playwright

from benchmarks.figures import BROWSER_OVERHEAD_TARGET, Figure, median, ratio
from benchmarks.server import TotpAccount, bundled_target, make_totp_accounts
from harness.browsers import launch_args

SCENARIO = '''\
"""Written by benchmarks/browser_overhead.py: one TOTP login through the pages per account."""

import json
import os

import pyotp
import pytest

from harness.pages.login import LoginPage

ACCOUNTS = json.loads(open(os.environ["BENCH_ACCOUNTS"]).read())


@pytest.fixture(scope="session")
def base_url():
    return os.environ["BENCH_BASE_URL"]


@pytest.fixture
def browser_context_args(browser_context_args, base_url):
    return {**browser_context_args, "base_url": base_url}


@pytest.mark.parametrize("index", range(len(ACCOUNTS)))
def test_log_in_with_totp(page, index):
    account = ACCOUNTS[index]
    two_factor = LoginPage(page).password_step(account["username"], account["password"])
    two_factor.submit_totp(pyotp.TOTP(account["secret"]).now())
    assert two_factor.is_logged_in()
'''

TIMING_PLUGIN = '''\
"""Written by benchmarks/browser_overhead.py: each test's phase durations, to a JSON file."""

import json
import os

_TIMES = {}


def pytest_runtest_logreport(report):
    _TIMES.setdefault(report.nodeid, {})[report.when] = [report.duration, report.outcome]


def pytest_sessionfinish(session):
    with open(os.environ["BENCH_TIMES"], "w") as out:
        json.dump(_TIMES, out)
'''


@dataclass(frozen=True)
class BrowserFigures:
    repetitions: int
    harness_seconds: float | None
    bare_seconds: float | None
    harness_run_seconds: float
    harness_passed: int

    @property
    def overhead(self) -> float | None:
        return ratio(self.harness_seconds, self.bare_seconds)

    def figures(self) -> list[Figure]:
        return [
            Figure(
                "browser login scenario, harness (pytest + plugin + page objects)",
                self.harness_seconds,
                "s",
                f"median of setup+call+teardown over {self.repetitions} tests"
                f" ({self.harness_passed} passed), first test left out",
            ),
            Figure(
                "browser login scenario, bare Playwright script",
                self.bare_seconds,
                "s",
                f"median of {self.repetitions} logins, new context each, after a warm-up",
            ),
            Figure(
                "harness overhead per browser scenario",
                self.overhead,
                "x",
                "harness median ÷ bare median",
                BROWSER_OVERHEAD_TARGET,
            ),
            Figure(
                "the harness's pytest run, whole",
                self.harness_run_seconds,
                "s",
                f"start-up, collection, browser launch and {self.repetitions + 1} tests",
            ),
        ]


def bare_logins(base_url: str, accounts: list[TotpAccount]) -> list[float]:
    """Time each login of a bare script; the first is a warm-up, left out."""
    times = []
    with sync_playwright() as playwright:
        chromium = playwright.chromium
        browser = chromium.launch(headless=True, **launch_args(chromium))
        for index, account in enumerate(accounts):
            start = time.perf_counter()
            context = browser.new_context(base_url=base_url)
            page = context.new_page()
            page.goto("/account/login/")
            page.fill("input#username", account.username)
            page.fill("input#password", account.password)
            with page.expect_navigation():
                page.click('input[type=submit][value="Log in"]')
            page.fill("input#totp_value", pyotp.TOTP(account.secret).now())
            with page.expect_navigation():
                page.click("form:has(#totp_value) input[type=submit][value=Verify]")
            logged_in = page.locator("#user-indicator").count() > 0
            context.close()
            elapsed = time.perf_counter() - start
            if not logged_in:
                raise RuntimeError(f"the bare script's login {index} did not log in")
            if index > 0:
                times.append(elapsed)
        browser.close()
    return times


def harness_logins(base_url: str, accounts: list[TotpAccount]) -> tuple[list[float], int, float]:
    """Run the tiny scenario module; per-test times (first left out), passed, run's time."""
    with tempfile.TemporaryDirectory(prefix="bench-browser-") as folder:
        work = Path(folder)
        (work / "test_bench_browser_login.py").write_text(SCENARIO)
        (work / "bench_timing.py").write_text(TIMING_PLUGIN)
        (work / "accounts.json").write_text(json.dumps([a.__dict__ for a in accounts]))
        env = {
            **os.environ,
            "BENCH_ACCOUNTS": str(work / "accounts.json"),
            "BENCH_BASE_URL": base_url,
            "BENCH_TIMES": str(work / "times.json"),
            "PYTHONPATH": os.pathsep.join(filter(None, [folder, os.environ.get("PYTHONPATH")])),
        }
        command = [
            sys.executable,
            "-m",
            "pytest",
            "test_bench_browser_login.py",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "-p",
            "bench_timing",
            "-p",
            "no:randomly",
        ]
        start = time.perf_counter()
        run = subprocess.run(
            command, cwd=work, env=env, capture_output=True, text=True, timeout=600
        )
        whole = time.perf_counter() - start
        if not (work / "times.json").exists():
            raise RuntimeError(f"the harness's run wrote no times: {run.stdout[-2000:]}")
        phases = json.loads((work / "times.json").read_text())
    per_test = []
    passed = 0
    for nodeid in phases:  # in the order they ran
        test = phases[nodeid]
        passed += test.get("call", [0, ""])[1] == "passed"
        per_test.append(sum(duration for duration, _ in test.values()))
    if passed != len(accounts):
        raise RuntimeError(
            f"the harness's run passed {passed} of {len(accounts)}: {run.stdout[-2000:]}"
        )
    return per_test[1:], passed, whole


def measure(repetitions: int = 10) -> BrowserFigures:
    with bundled_target() as target:
        accounts = make_totp_accounts(target, 2 * (repetitions + 1))
        harness_accounts, bare_accounts = accounts[: repetitions + 1], accounts[repetitions + 1 :]
        harness_times, passed, whole = harness_logins(target.base_url, harness_accounts)
        bare_times = bare_logins(target.base_url, bare_accounts)
    return BrowserFigures(repetitions, median(harness_times), median(bare_times), whole, passed)
