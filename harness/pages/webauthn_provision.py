"""Security-key provisioning `/manage/account/webauthn-provision`."""

from __future__ import annotations

from playwright.sync_api import Locator
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from harness.errors import HarnessError
from harness.pages.base import IndexPage

ERRORS = "ul#webauthn-errors li:not(#webauthn-browser-support)"


class WebAuthnError(HarnessError):
    """The page's security-key step neither moved on nor showed an error in time."""


class WebAuthnProvisionPage(IndexPage):
    path = "/manage/account/webauthn-provision"

    @property
    def errors(self) -> Locator:
        return self.page.locator(ERRORS)

    def enrol(self, label: str, authenticator: str, timeout_ms: float = 15_000) -> None:
        """Name the key and press "Set up"; wait until the page moves on or shows an error.

        :param authenticator: names the authenticator in the message when it never answers.
        """
        self.page.fill("#webauthn-provision-label", label)
        self.page.click("#webauthn-provision-begin")
        wait_for_outcome(self, authenticator, timeout_ms)


def wait_for_outcome(index_page: IndexPage, authenticator: str, timeout_ms: float) -> None:
    """Wait for a security-key step's outcome: the browser leaves ``index_page``'s path, or the
    page shows an error. Returns at once when the browser has left already.

    :raises WebAuthnError: neither happened within ``timeout_ms``.
    """
    page = index_page.page
    # The page's own path, not the browser's at this moment: a quick key may have moved the
    # browser on between the button's press and this wait.
    start = index_page.path
    try:
        page.wait_for_function(
            """([start, selector]) => location.pathname !== start
                || document.querySelectorAll(selector).length > 0""",
            arg=[start, ERRORS],
            timeout=timeout_ms,
        )
    except PlaywrightTimeoutError as error:
        raise WebAuthnError(
            f"{authenticator} did not answer within {timeout_ms / 1000:.0f} s (page {start})"
        ) from error
    page.wait_for_load_state()
