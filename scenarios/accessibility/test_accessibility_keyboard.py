"""The login and two-factor flows with the keyboard alone (WCAG 2.1 SC 2.1.1), and focus that
shows where it is (SC 2.4.7)."""

import secrets

import pytest
from playwright.sync_api import Locator, Page, expect

from harness.accessibility import describe, focus_is_visible, start_at_top, tab_stops, tab_to
from harness.pages import (
    IndexPage,
    LoginPage,
    ReauthenticateForm,
    TotpProvisionPage,
    TwoFactorManagePage,
    TwoFactorPage,
    WebAuthnProvisionPage,
)
from scenarios.accessibility.contract_pages import Visit, log_in
from virtual_authenticators.cdp import CdpAuthenticator
from virtual_authenticators.totp import TotpApp

pytestmark = pytest.mark.browser


def login_controls(page: Page) -> dict[str, Locator]:
    """The login form's controls a person must reach (warehouse-contract.md: Login)."""
    return {
        "username": page.locator("input#username[name=username]"),
        "password": page.locator("input#password[name=password]"),
        "submit": page.locator('input[type=submit][value="Log in"]'),
    }


def type_into(page: Page, field: Locator, text: str) -> None:
    """Tab to ``field`` from where focus is, and type ``text`` there."""
    assert tab_to(page, field), f"Tab never reaches {describe(field)}"
    page.keyboard.type(text)


def press_enter_and_wait(page: Page) -> None:
    with page.expect_navigation():
        page.keyboard.press("Enter")


class TestKeyboardOnly:
    @pytest.mark.requirement("A11Y-KEYBOARD-01")
    def test_totp_login_by_keyboard_ends_logged_in(self, page: Page, make_account) -> None:
        account = make_account(totp=True)
        LoginPage(page).open()
        controls = login_controls(page)
        type_into(page, controls["username"], account.username)
        type_into(page, controls["password"], account.password)
        press_enter_and_wait(page)
        two_factor = TwoFactorPage(page)
        assert two_factor.is_shown()
        account.totp.wait_for_fresh_step()
        type_into(page, two_factor.totp_input, account.totp.current())
        press_enter_and_wait(page)
        expect(two_factor.user_indicator).to_have_text(account.username)

    @pytest.mark.requirement("A11Y-KEYBOARD-01")
    def test_login_form_tab_order_reaches_every_control(self, page: Page) -> None:
        LoginPage(page).open()
        stops = tab_stops(page)
        wanted = [describe(control) for control in login_controls(page).values()]
        reached = [stop for stop in stops if stop in wanted]
        assert reached == wanted, f"tab order {stops} lacks or misorders {wanted}"

    @pytest.mark.requirement("A11Y-KEYBOARD-01")
    def test_totp_step_tab_order_reaches_the_code_and_verify(
        self, page: Page, make_account
    ) -> None:
        account = make_account(totp=True)
        LoginPage(page).password_step(account.username, account.password)
        stops = tab_stops(page)
        wanted = [
            describe(TwoFactorPage(page).totp_input),
            describe(page.locator("form:has(#totp_value) input[type=submit][value=Verify]")),
        ]
        assert [stop for stop in stops if stop in wanted] == wanted, f"tab order {stops}"

    @pytest.mark.requirement("A11Y-KEYBOARD-01")
    def test_totp_set_up_by_keyboard(
        self, page: Page, make_account, let_time_pass, target_profile
    ) -> None:
        account = make_account(two_factor_ready=True)
        log_in(Visit(page, make_account, let_time_pass, target_profile), account)
        provision = TotpProvisionPage(page).open()
        assert isinstance(provision, TotpProvisionPage)
        ReauthenticateForm(page).confirm_if_asked(account.password)
        app = TotpApp.from_uri(provision.otpauth_uri())
        app.wait_for_fresh_step()
        start_at_top(page)
        type_into(page, page.locator("form.totp-form__form #totp_value"), app.current())
        submit = page.locator('form.totp-form__form input[type=submit][value="Set up application"]')
        assert tab_to(page, submit), "Tab never reaches the Set up application button"
        press_enter_and_wait(page)
        assert provision.current_path == "/manage/account/"
        assert provision.flashes("success")

    @pytest.mark.requirement("A11Y-KEYBOARD-01")
    def test_security_key_set_up_by_keyboard(
        self, page: Page, make_account, let_time_pass, target_profile, browser_name: str
    ) -> None:
        if browser_name != "chromium":
            pytest.skip("the DevTools virtual authenticator exists only in Chromium")
        account = make_account(two_factor_ready=True)
        with CdpAuthenticator(page) as key:
            log_in(Visit(page, make_account, let_time_pass, target_profile), account)
            WebAuthnProvisionPage(page).open()
            ReauthenticateForm(page).confirm_if_asked(account.password)
            begin = page.locator("#webauthn-provision-begin")
            expect(begin).to_be_enabled()
            start_at_top(page)
            label = page.locator("#webauthn-provision-label")
            type_into(page, label, "key " + secrets.token_hex(2))
            assert tab_to(page, begin), "Tab never reaches the Set up security device button"
            with page.expect_navigation():
                page.keyboard.press("Enter")
            assert IndexPage(page).current_path.rstrip("/") == "/manage/account"
            assert len(key.credentials()) == 1
        manage = TwoFactorManagePage(page).open()
        assert isinstance(manage, TwoFactorManagePage)
        ReauthenticateForm(page).confirm_if_asked(account.password)
        expect(manage.security_keys).to_have_count(1)


class TestFocusVisible:
    @pytest.mark.requirement("A11Y-FOCUS-01")
    @pytest.mark.parametrize("control", ["username", "password", "submit"])
    def test_login_control_shows_keyboard_focus(self, page: Page, control: str) -> None:
        LoginPage(page).open()
        start_at_top(page)
        assert tab_to(page, login_controls(page)[control]), f"Tab never reaches {control}"
        assert focus_is_visible(page), f"the login form's {control} shows no focus indicator"

    @pytest.mark.requirement("A11Y-FOCUS-01")
    def test_totp_code_field_shows_keyboard_focus(self, page: Page, make_account) -> None:
        account = make_account(totp=True)
        two_factor = LoginPage(page).password_step(account.username, account.password)
        start_at_top(page)
        assert tab_to(page, two_factor.totp_input), "Tab never reaches the TOTP code field"
        assert focus_is_visible(page), "the TOTP code field shows no focus indicator"
