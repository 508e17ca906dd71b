"""API tokens `/manage/account/token/`: making one (shown once) and removing it."""

from __future__ import annotations

from playwright.sync_api import Locator

from harness.pages.base import IndexPage
from harness.pages.css import css_string
from harness.redaction import Secret

ACCOUNT_SCOPE = "scope:user"


class ApiTokensPage(IndexPage):
    path = "/manage/account/token/"

    def create(self, description: str, scope: str = ACCOUNT_SCOPE) -> Secret | None:
        """Make a token named ``description`` on the open page; the token the page then shows
        once, or None when it shows none."""
        form = self.page.locator("form#add-token-form")
        form.locator("input[name=description]").fill(description)
        form.locator("select[name=token_scope]").select_option(scope)
        with self.page.expect_navigation():
            form.locator("button[type=submit]").click()
        shown = self.page.locator("#provisioned-token")
        return Secret(shown.inner_text().strip()) if shown.count() else None

    def lists(self, description: str) -> bool:
        return self._item(description).count() > 0

    def remove(self, description: str, password: str) -> None:
        """Remove the token ``description`` from the open page, confirming with ``password``."""
        form = self._item(description).locator("form.delete-token-form")
        form.locator("input[name=confirm_password]").fill(password)
        with self.page.expect_navigation():
            form.locator("button[type=submit]").click()

    def _item(self, description: str) -> Locator:
        return self.page.locator(f"#api-tokens li[data-description={css_string(description)}]")
