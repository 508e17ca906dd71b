"""Login `/account/login/`."""

from __future__ import annotations

from harness.pages.base import IndexPage
from harness.pages.two_factor import TwoFactorPage


class LoginPage(IndexPage):
    path = "/account/login/"

    def log_in(self, username: str, password: str) -> None:
        """Submit the password step; the browser lands on the next page (2FA step or target)."""
        self.page.fill("input#username[name=username]", username)
        self.page.fill("input#password[name=password]", password)
        with self.page.expect_navigation():
            self.page.click('input[type=submit][value="Log in"]')

    def password_step(self, username: str, password: str) -> TwoFactorPage:
        """Open the login page and log in with the password; the page that follows."""
        self.open()
        self.log_in(username, password)
        return TwoFactorPage(self.page)
