"""Password reset: the request page and the page the emailed link opens."""

from __future__ import annotations

from harness.pages.base import IndexPage


class RequestPasswordResetPage(IndexPage):
    path = "/account/request-password-reset/"

    def request(self, username_or_email: str) -> None:
        self.page.fill("input#username_or_email", username_or_email)
        with self.page.expect_navigation():
            self.page.click('input[type=submit][value="Send reset email"]')


class ResetPasswordPage(IndexPage):
    path = "/account/reset-password/"

    def reset(self, new_password: str) -> None:
        self.page.fill("#new_password", new_password)
        self.page.fill("#password_confirm", new_password)
        with self.page.expect_navigation():
            self.page.click('input[type=submit][value="Reset password"]')
