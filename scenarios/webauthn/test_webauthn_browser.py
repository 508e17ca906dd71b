"""Security keys in a real browser: the page's own JavaScript with Chromium's virtual key."""

import pytest
from playwright.sync_api import Page, expect

from harness.accounts import TestAccount
from harness.pages import (
    IndexPage,
    LoginPage,
    ReauthenticateForm,
    TwoFactorManagePage,
    WebAuthnProvisionPage,
)
from virtual_authenticators.cdp import CdpAuthenticator, CdpOptions, Protocol

pytestmark = pytest.mark.browser


@pytest.fixture
def chromium_only(browser_name: str) -> None:
    if browser_name != "chromium":
        pytest.skip("the DevTools virtual authenticator exists only in Chromium")


def enrol_in_page(page: Page, account: TestAccount, label: str = "my key") -> None:
    provision = WebAuthnProvisionPage(page).open()
    ReauthenticateForm(page).confirm_if_asked(account.password)
    provision.enrol(label, authenticator="Chromium's virtual authenticator")


@pytest.mark.usefixtures("chromium_only")
class TestSecurityKeyJourney:
    @pytest.mark.requirement("WEBAUTHN-JOURNEY-01")
    @pytest.mark.parametrize("protocol", list(Protocol), ids=lambda p: p.value)
    def test_enrol_a_key_log_out_and_log_in_with_it(
        self, page: Page, make_account, protocol: Protocol
    ) -> None:
        account = make_account(two_factor_ready=True)
        with CdpAuthenticator(page, CdpOptions(protocol=protocol)) as key:
            LoginPage(page).password_step(account.username, account.password)
            enrol_in_page(page, account)
            assert IndexPage(page).current_path.startswith("/manage/account")
            assert len(key.credentials()) == 1
            TwoFactorManagePage(page).open()
            ReauthenticateForm(page).confirm_if_asked(account.password)
            expect(page.locator('#webauthn-keys li[data-label="my key"]')).to_have_count(1)

            IndexPage(page).log_out()
            two_factor = LoginPage(page).password_step(account.username, account.password)
            two_factor.use_security_key(authenticator=f"Chromium's virtual {protocol.value} key")
            expect(two_factor.user_indicator).to_have_text(account.username)

    @pytest.mark.requirement("WEBAUTHN-ASSERT-FAULTS")
    @pytest.mark.parametrize("bogus_signature", [False, True], ids=["honest", "bad-signature"])
    def test_bad_signature_is_refused_with_the_error_on_the_page(
        self, page: Page, make_account, bogus_signature: bool
    ) -> None:
        account = make_account(two_factor_ready=True)
        with CdpAuthenticator(page) as key:
            LoginPage(page).password_step(account.username, account.password)
            enrol_in_page(page, account)
            IndexPage(page).log_out()
            key.override_responses(bogus_signature=bogus_signature)
            two_factor = LoginPage(page).password_step(account.username, account.password)
            two_factor.use_security_key(authenticator="Chromium's virtual key")
            assert two_factor.is_logged_in() is not bogus_signature
            assert bool(two_factor.webauthn_errors.count()) is bogus_signature


class TestWithoutJavaScript:
    @pytest.mark.requirement("WEBAUTHN-NOJS-01")
    def test_provisioning_page_says_keys_need_javascript(self, new_context, make_account) -> None:
        account = make_account(two_factor_ready=True)
        page = new_context(java_script_enabled=False).new_page()
        LoginPage(page).open()
        LoginPage(page).log_in(account.username, account.password)
        WebAuthnProvisionPage(page).open()
        ReauthenticateForm(page).confirm_if_asked(account.password)
        expect(page.locator(".webauthn-noscript")).to_be_attached()
        expect(page.locator("#webauthn-provision-begin")).to_be_disabled()
