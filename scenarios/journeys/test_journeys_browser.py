"""What a person does, in a real browser, through the index's own pages."""

import secrets
import time

import pytest
from playwright.sync_api import Page, expect

from harness.mail import Mailbox, link_in
from harness.pages import (
    IndexPage,
    LoginPage,
    ManageAccountPage,
    ReauthenticateForm,
    RecoveryCodeBurnPage,
    RecoveryCodeLoginPage,
    RecoveryCodesPage,
    RegisterPage,
    RequestPasswordResetPage,
    ResetPasswordPage,
    TotpProvisionPage,
    TwoFactorManagePage,
    TwoFactorPage,
)
from harness.targets import Profile
from virtual_authenticators.totp import TotpApp

pytestmark = pytest.mark.browser


class TestTwoFactorJourney:
    @pytest.mark.requirement(
        "JOURNEY-TOTP-01", "TWOFA-LOGIN-STEP-01", "TOTP-DRIFT-01", "TOTP-INPUT-01"
    )
    def test_register_verify_codes_totp_logout_and_log_in_with_totp(
        self, page: Page, mailbox: Mailbox, target_profile: Profile
    ) -> None:
        name = "b" + secrets.token_hex(6)
        email, password = f"{name}@example.com", secrets.token_urlsafe(16)
        RegisterPage(page).open()
        RegisterPage(page).register(name, email, password)
        expect(IndexPage(page).user_indicator).to_have_text(name)

        page.goto(link_in(mailbox.wait_for(email, "Verify your email"), "/account/verify-email/"))
        account_page = ManageAccountPage(page)
        assert account_page.current_path == "/manage/account/"
        assert account_page.email_status(email) == "Verified"

        codes = RecoveryCodesPage(page).generate(password)
        assert len(codes) == 8
        RecoveryCodesPage(page).continue_to_burn()
        RecoveryCodeBurnPage(page).submit_code(codes[0])
        assert IndexPage(page).current_path == "/manage/account/two-factor/"

        provision = TotpProvisionPage(page).open()
        ReauthenticateForm(page).confirm_if_asked(password)
        app = TotpApp.from_uri(provision.otpauth_uri())
        assert app.secret == provision.manual_secret()
        app.wait_for_fresh_step()
        provision.confirm(app.current())
        assert provision.current_path == "/manage/account/"
        assert provision.flashes("success")

        IndexPage(page).log_out()
        assert not IndexPage(page).is_logged_in()

        LoginPage(page).open()
        LoginPage(page).log_in(name, password)
        two_factor = TwoFactorPage(page)
        assert two_factor.is_shown()
        expect(two_factor.totp_input).to_have_attribute("autocomplete", "one-time-code")
        app.wait_for_fresh_step()
        two_factor.submit_totp(app.next())
        expect(two_factor.user_indicator).to_have_text(name)

    @pytest.mark.requirement("TOTP-VERIFY-02")
    def test_wrong_code_is_shown_as_an_error_on_the_same_page(
        self, page: Page, make_account
    ) -> None:
        account = make_account(totp=True)
        LoginPage(page).password_step(account.username, account.password)
        two_factor = TwoFactorPage(page)
        two_factor.submit_totp(account.totp.wrong_code())
        assert two_factor.is_shown()
        assert two_factor.totp_errors()
        assert not two_factor.is_logged_in()

    @pytest.mark.requirement("TWOFA-PARTIAL-01")
    def test_skipping_the_second_step_leads_back_to_login(self, page: Page, make_account) -> None:
        account = make_account(totp=True)
        LoginPage(page).password_step(account.username, account.password)
        page.goto("/manage/account/")
        assert IndexPage(page).current_path == "/account/login/"
        assert not IndexPage(page).is_logged_in()

    @pytest.mark.requirement("TOTP-NOJS-01")
    def test_totp_login_works_without_javascript(self, new_context, make_account) -> None:
        account = make_account(totp=True)
        page = new_context(java_script_enabled=False).new_page()
        LoginPage(page).password_step(account.username, account.password)
        account.totp.wait_for_fresh_step()
        TwoFactorPage(page).submit_totp(account.totp.current())
        expect(IndexPage(page).user_indicator).to_have_text(account.username)


@pytest.mark.needs("recovery_codes")
class TestRecoveryCodeJourney:
    @pytest.mark.requirement("RECOVERY-LOGIN-01")
    def test_log_in_with_a_recovery_code_from_the_two_factor_page(
        self, page: Page, make_account
    ) -> None:
        account = make_account(totp=True, recovery_codes=True)
        LoginPage(page).password_step(account.username, account.password)
        TwoFactorPage(page).use_recovery_code()
        recovery = RecoveryCodeLoginPage(page)
        recovery.submit_code(account.unused_recovery_code())
        assert recovery.current_path == "/manage/account/"
        assert recovery.flashes("success")

    @pytest.mark.requirement("RECOVERY-NOJS-01")
    def test_recovery_code_login_works_without_javascript(self, new_context, make_account) -> None:
        account = make_account(totp=True, recovery_codes=True)
        page = new_context(java_script_enabled=False).new_page()
        LoginPage(page).password_step(account.username, account.password)
        TwoFactorPage(page).use_recovery_code()
        RecoveryCodeLoginPage(page).submit_code(account.unused_recovery_code())
        expect(IndexPage(page).user_indicator).to_have_text(account.username)

    @pytest.mark.requirement("RECOVERY-SINGLE-USE-01")
    def test_used_recovery_code_is_refused_on_the_page(
        self, page: Page, make_account, make_client
    ) -> None:
        account = make_account(totp=True, recovery_codes=True)
        code = account.unused_recovery_code()
        earlier = make_client()
        assert (
            earlier.recovery_code_login(
                earlier.password_step(account.username, account.password), code
            ).status
            == 303
        )
        LoginPage(page).password_step(account.username, account.password)
        TwoFactorPage(page).use_recovery_code()
        recovery = RecoveryCodeLoginPage(page)
        recovery.submit_code(code)
        assert recovery.code_errors()
        assert not recovery.is_logged_in()


class TestAccountJourneys:
    @pytest.mark.requirement("TWOFA-EMAIL-01")
    def test_unverified_account_is_told_to_verify_before_2fa(
        self, page: Page, make_account
    ) -> None:
        account = make_account(verified=False)
        LoginPage(page).password_step(account.username, account.password)
        manage = TwoFactorManagePage(page).open()
        ReauthenticateForm(page).confirm_if_asked(account.password)
        expect(page.locator("#verify-email-first")).to_be_visible()
        assert not manage.can_add_totp()

    @pytest.mark.requirement("REAUTH-01")
    @pytest.mark.needs("recovery_codes")
    def test_stale_login_confirms_the_password_before_new_codes(
        self, page: Page, make_account, target_profile: Profile
    ) -> None:
        age = target_profile.ages.reauthenticate_recovery_codes
        if age > 60:
            pytest.skip(f"the target asks to re-authenticate only after {age} s, too long to wait")
        account = make_account()
        LoginPage(page).password_step(account.username, account.password)
        time.sleep(age + 1)
        RecoveryCodesPage(page).open()
        form = ReauthenticateForm(page)
        assert form.is_shown()
        form.confirm(account.password)
        expect(page.locator(".recovery-codes ul li code")).to_have_count(8)

    @pytest.mark.requirement("RESET-07")
    def test_password_reset_then_login_still_asks_for_totp(
        self, page: Page, make_account, mailbox: Mailbox
    ) -> None:
        account = make_account(totp=True)
        request = RequestPasswordResetPage(page).open()
        request.request(account.email)
        expect(page.locator("#password-reset-sent")).to_be_visible()
        page.goto(
            link_in(mailbox.wait_for(account.email, "Password reset"), "/account/reset-password/")
        )
        new_password = secrets.token_urlsafe(16)
        ResetPasswordPage(page).reset(new_password)
        assert IndexPage(page).current_path == "/account/login/"
        LoginPage(page).log_in(account.username, new_password)
        assert TwoFactorPage(page).is_shown()

    @pytest.mark.requirement("SESSION-LOGOUT-01")
    def test_logout_button_ends_the_session(self, page: Page, make_account) -> None:
        account = make_account()
        LoginPage(page).password_step(account.username, account.password)
        assert IndexPage(page).is_logged_in()
        IndexPage(page).log_out()
        page.goto("/manage/account/")
        assert IndexPage(page).current_path == "/account/login/"
