"""What every page of the index has: flash messages, the user indicator, logging out."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Locator, Page

from harness.report.steps import step_per_method


class IndexPage:
    """A page of the index; subclasses add what their page has.

    :param page: the Playwright page, whose context has the target's ``base_url``.
    """

    path = "/"

    def __init_subclass__(cls, **kwargs: object) -> None:
        # Every page object's actions show as steps in the report, as IndexPage's own do.
        super().__init_subclass__(**kwargs)
        step_per_method(cls)

    def __init__(self, page: Page) -> None:
        self.page = page

    def open(self, path: str | None = None) -> IndexPage:
        self.page.goto(path or self.path)
        return self

    @property
    def current_path(self) -> str:
        return urlsplit(self.page.url).path

    def flashes(self, kind: str = "") -> list[str]:
        """Flash message texts, of one kind (success, error, warning, info) or all."""
        bar = f".notification-bar--{kind}" if kind else ".notification-bar"
        return self.page.locator(
            f"#flash-messages {bar} .notification-bar__message"
        ).all_inner_texts()

    def field_errors(self, field: str) -> list[str]:
        return self.page.locator(f"ul#{field}-errors li").all_inner_texts()

    @property
    def user_indicator(self) -> Locator:
        return self.page.locator("#user-indicator")

    def is_logged_in(self) -> bool:
        return self.user_indicator.count() > 0

    def log_out(self) -> None:
        """Press the header's "Log out" button and wait for the index page."""
        with self.page.expect_navigation():
            self.page.locator("form#logout-form button[type=submit]").click()


step_per_method(IndexPage)
