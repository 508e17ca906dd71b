"""Form errors are announced to assistive technology (WCAG 2.1 SC 4.1.3, SC 3.3.1): they appear
inside a live region (``role=alert``, ``role=status`` or ``aria-live``)."""

import pytest
from playwright.sync_api import Locator, Page, expect

from harness.accessibility import is_announced
from harness.pages import LoginPage, TwoFactorPage

pytestmark = pytest.mark.browser

LOGIN_ERRORS = "ul.form-errors li, ul#username-errors li, ul#password-errors li"
"""Where the login page shows what is wrong (warehouse-contract.md: Login)."""

TOTP_ERRORS = "ul.form-errors li, ul#totp-errors li"
"""Where the two-factor page shows what is wrong with a TOTP code."""


def unannounced(errors: Locator) -> list[int]:
    """The positions of the errors that are in no live region."""
    return [number for number in range(errors.count()) if not is_announced(errors.nth(number))]


class TestErrorsAreAnnounced:
    @pytest.mark.requirement("A11Y-ERRORS-01")
    def test_wrong_password_error_is_in_a_live_region(self, page: Page, make_account) -> None:
        account = make_account()
        login = LoginPage(page).open()
        assert isinstance(login, LoginPage)
        login.log_in(account.username, account.password + "x")
        errors = page.locator(LOGIN_ERRORS)
        expect(errors.first).to_be_visible()
        assert not login.is_logged_in()
        assert not unannounced(errors), (
            f"login errors {unannounced(errors)} (of {errors.count()}) are not in a live region"
        )

    @pytest.mark.requirement("A11Y-ERRORS-01")
    def test_wrong_totp_code_error_is_in_a_live_region(self, page: Page, make_account) -> None:
        account = make_account(totp=True)
        two_factor = LoginPage(page).password_step(account.username, account.password)
        two_factor.submit_totp(account.totp.wrong_code())
        assert TwoFactorPage(page).is_shown()
        errors = page.locator(TOTP_ERRORS)
        expect(errors.first).to_be_visible()
        assert not unannounced(errors), (
            f"TOTP errors {unannounced(errors)} (of {errors.count()}) are not in a live region"
        )
