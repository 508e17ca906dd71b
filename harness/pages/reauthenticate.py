"""The password re-check a sensitive page renders in place of itself."""

from __future__ import annotations

from playwright.sync_api import Page

FORM = "form#reauthenticate-form"


class ReauthenticateForm:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.form = page.locator(FORM)

    def is_shown(self) -> bool:
        return self.form.count() > 0

    def confirm(self, password: str) -> None:
        """Type the password and submit; the sensitive page loads on success."""
        self.form.locator("#password").fill(password)
        with self.page.expect_navigation():
            self.form.locator('input[type=submit][value="Confirm password"]').click()

    def confirm_if_asked(self, password: str) -> bool:
        """Confirm the password if the form is shown; whether it was."""
        if not self.is_shown():
            return False
        self.confirm(password)
        return True
