"""Register `/account/register/`."""

from __future__ import annotations

from harness.pages.base import IndexPage


class RegisterPage(IndexPage):
    path = "/account/register/"

    def register(self, username: str, email: str, password: str, full_name: str = "") -> None:
        """Fill the form as a person would and submit it."""
        page = self.page
        page.fill("#full_name", full_name or username)
        page.fill("#email", email)
        page.fill("#username", username)
        page.fill("#new_password", password)
        page.fill("#password_confirm", password)
        with page.expect_navigation():
            page.click('input[type=submit][value="Create account"]')
