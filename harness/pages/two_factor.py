"""The login's second step `/account/two-factor/?<token>`."""

from __future__ import annotations

from playwright.sync_api import Locator

from harness.pages.base import IndexPage
from harness.pages.webauthn_provision import ERRORS, wait_for_outcome


class TwoFactorPage(IndexPage):
    path = "/account/two-factor/"

    @property
    def totp_input(self) -> Locator:
        return self.page.locator("input#totp_value[name=totp_value]")

    @property
    def recovery_link(self) -> Locator:
        return self.page.locator('a[href^="/account/recovery-code/?"]')

    def is_shown(self) -> bool:
        return self.current_path == self.path and self.totp_input.count() > 0

    def submit_totp(self, code: str) -> None:
        self.totp_input.fill(code)
        with self.page.expect_navigation():
            self.page.click("form:has(#totp_value) input[type=submit][value=Verify]")

    def totp_errors(self) -> list[str]:
        return self.field_errors("totp")

    def use_recovery_code(self) -> None:
        with self.page.expect_navigation():
            self.recovery_link.click()

    @property
    def webauthn_errors(self) -> Locator:
        return self.page.locator(ERRORS)

    def use_security_key(self, authenticator: str, timeout_ms: float = 15_000) -> None:
        """Press "Use security device"; wait until the login completes or an error shows.

        :param authenticator: names the authenticator in the message when it never answers.
        """
        self.page.click("#webauthn-auth-begin")
        wait_for_outcome(self, authenticator, timeout_ms)
