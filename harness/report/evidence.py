"""Evidence of a failed browser scenario, kept without its secrets.

When a scenario fails, a tester and a reviewer want to see the page: a screenshot of every page
still open, with the elements that show a secret masked; what the pages wrote to their console;
and Playwright's trace, scrubbed of secrets (:mod:`harness.report.scrub`). Each is written to
the test's artifacts folder and attached to its Allure result.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import allure
from playwright.sync_api import BrowserContext
from playwright.sync_api import Error as PlaywrightError

from harness.redaction import Secret, known_secrets
from harness.report.scrub import scrub_file, scrub_text

SECRET_ELEMENTS = (
    ".totp-form__qr img",  # the QR code carries the TOTP secret
    ".totp-form__manual-code code",  # which the page also spells out
    ".recovery-codes",  # the codes, shown once
)
"""Selectors of the contract's elements that show a secret (warehouse-contract.md)."""

SCREENSHOT_TIMEOUT_MS = 5000


class ConsoleLog:
    """What the pages of the watched browser contexts write to their console, and their
    uncaught errors, in order."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def watch(self, context: BrowserContext) -> None:
        context.on("console", lambda message: self.lines.append(f"{message.type}: {message.text}"))
        context.on("weberror", lambda error: self.lines.append(f"uncaught: {error.error}"))

    def text(self) -> str:
        if not self.lines:
            return "(the pages wrote nothing to their console)\n"
        return "\n".join(self.lines) + "\n"


def keep_cookies_secret(contexts: Iterable[BrowserContext]) -> None:
    """Record every cookie the browser holds as a secret (a session cookie logs its holder
    in), so the reports of this test are scrubbed of them."""
    for context in contexts:
        try:
            cookies = context.cookies()
        except PlaywrightError:
            continue
        for cookie in cookies:
            Secret(cookie.get("value", ""))


def keep_screenshots(contexts: Iterable[BrowserContext], folder: Path) -> list[Path]:
    """Screenshot every open page of ``contexts`` into ``folder``, secrets masked, and attach
    each; pages that can no longer be captured (closed, crashed) are passed over."""
    kept = []
    pages = [page for context in contexts for page in context.pages]
    for number, page in enumerate(pages, start=1):
        path = folder / f"failure-{number}.png"
        try:
            page.screenshot(
                path=path,
                timeout=SCREENSHOT_TIMEOUT_MS,
                mask=[page.locator(selector) for selector in SECRET_ELEMENTS],
            )
        except PlaywrightError:
            continue
        allure.attach.file(
            path,
            name=f"screenshot {number}: {page.url}",
            attachment_type=allure.attachment_type.PNG,
        )
        kept.append(path)
    return kept


def keep_console_log(log: ConsoleLog, folder: Path) -> Path:
    """Write the console log, scrubbed, into ``folder`` and attach it."""
    path = folder / "console.log"
    path.write_text(scrub_text(log.text(), known_secrets()), encoding="utf-8")
    allure.attach.file(path, name="browser console", attachment_type=allure.attachment_type.TEXT)
    return path


def keep_traces(folder: Path) -> list[Path]:
    """Scrub the Playwright traces pytest-playwright kept in ``folder`` and attach each."""
    traces = sorted(folder.glob("trace*.zip"))
    for trace in traces:
        scrub_file(trace, known_secrets())
        allure.attach.file(
            trace, name=f"Playwright {trace.name}", attachment_type=allure.attachment_type.ZIP
        )
    return traces
