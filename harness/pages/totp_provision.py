"""TOTP provisioning `/manage/account/totp-provision`."""

from __future__ import annotations

from harness.pages.base import IndexPage
from harness.redaction import Secret, otpauth_uri


class TotpProvisionPage(IndexPage):
    path = "/manage/account/totp-provision"

    def otpauth_uri(self) -> str:
        """The ``otpauth://`` URI the QR code carries in its ``aria-label``."""
        label = self.page.locator(".totp-form__qr img").get_attribute("aria-label")
        return otpauth_uri(label or "")

    def manual_secret(self) -> str:
        """The secret shown for typing into an app by hand."""
        code = self.page.locator(".totp-form__manual-code code").inner_text()
        return Secret(code.replace(" ", ""))

    def confirm(self, code: str) -> None:
        """Type the app's code and press "Set up application"."""
        self.page.fill("form.totp-form__form #totp_value", code)
        with self.page.expect_navigation():
            self.page.click('form.totp-form__form input[type=submit][value="Set up application"]')

    def totp_errors(self) -> list[str]:
        return self.field_errors("totp")
