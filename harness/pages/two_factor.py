"""The login's second step `/account/two-factor/?<token>`."""

from __future__ import annotations

from playwright.sync_api import Locator

from harness.pages.base import IndexPage


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
