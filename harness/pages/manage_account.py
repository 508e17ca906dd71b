"""Account `/manage/account/` and two-factor management `/manage/account/two-factor/`."""

from __future__ import annotations

from playwright.sync_api import Locator

from harness.pages.base import IndexPage


class ManageAccountPage(IndexPage):
    path = "/manage/account/"

    def email_status(self, address: str) -> str:
        """``Verified`` or ``Unverified``, as the page shows for ``address``."""
        row = self.page.locator(f'#account-emails tr[data-email="{address}"]')
        return row.locator(".email-status").inner_text().strip()


class TwoFactorManagePage(IndexPage):
    path = "/manage/account/two-factor/"

    def can_add_totp(self) -> bool:
        return self.page.locator("a#add-totp").count() > 0

    @property
    def security_keys(self) -> Locator:
        """One ``li`` per enrolled security key, its label in ``data-label``."""
        return self.page.locator("#webauthn-keys li[data-label]")
