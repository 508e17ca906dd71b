"""Registration, sessions and TOTP replay as a person meets them in a browser."""

import secrets

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from harness.pages import IndexPage, LoginPage, RegisterPage, TwoFactorPage

pytestmark = pytest.mark.browser


def session_cookie(context: BrowserContext) -> str | None:
    return next((c["value"] for c in context.cookies() if c["name"] == "session_id"), None)


class TestRegisterPage:
    @pytest.mark.requirement("ACCOUNT-REGISTER-03")
    def test_weak_password_is_shown_next_to_the_field(self, page: Page) -> None:
        name = "w" + secrets.token_hex(6)
        RegisterPage(page).open()
        RegisterPage(page).register(name, f"{name}@example.com", "password")
        register = RegisterPage(page)
        assert register.current_path == "/account/register/"
        assert register.field_errors("new_password")
        assert not register.is_logged_in()

    @pytest.mark.requirement("ACCOUNT-REGISTER-02")
    def test_honeypot_is_not_shown_to_people(self, page: Page) -> None:
        RegisterPage(page).open()
        honeypot = page.locator("input[name=confirm_form]")
        expect(honeypot).not_to_be_in_viewport()
        expect(honeypot).to_have_attribute("tabindex", "-1")


class TestBrowserSession:
    @pytest.mark.requirement("SESSION-ROTATE-01")
    def test_session_cookie_changes_at_login(
        self, page: Page, context: BrowserContext, make_account
    ) -> None:
        account = make_account()
        LoginPage(page).open()
        before = session_cookie(context)
        assert before
        LoginPage(page).log_in(account.username, account.password)
        assert IndexPage(page).is_logged_in()
        assert session_cookie(context) not in (None, before)

    @pytest.mark.requirement("SESSION-ROTATE-02")
    def test_session_cookie_changes_again_at_the_second_factor(
        self, page: Page, context: BrowserContext, make_account
    ) -> None:
        account = make_account(totp=True)
        LoginPage(page).open()
        LoginPage(page).log_in(account.username, account.password)
        pending = session_cookie(context)
        account.totp.wait_for_fresh_step()
        TwoFactorPage(page).submit_totp(account.totp.current())
        assert IndexPage(page).is_logged_in()
        assert session_cookie(context) not in (None, pending)


class TestBrowserTotpReplay:
    @pytest.mark.requirement("TOTP-REPLAY-01")
    def test_code_used_in_one_browser_is_refused_in_another(
        self, page: Page, new_context, make_account
    ) -> None:
        account = make_account(totp=True)
        account.totp.wait_for_fresh_step()
        code = account.totp.current()
        LoginPage(page).open()
        LoginPage(page).log_in(account.username, account.password)
        TwoFactorPage(page).submit_totp(code)
        assert IndexPage(page).is_logged_in()

        second = new_context().new_page()
        LoginPage(second).open()
        LoginPage(second).log_in(account.username, account.password)
        two_factor = TwoFactorPage(second)
        two_factor.submit_totp(code)
        assert two_factor.is_shown()
        assert two_factor.totp_errors()
        assert not two_factor.is_logged_in()
