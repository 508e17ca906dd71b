"""Security keys in a real browser: the page's own JavaScript with Chromium's virtual key, whose
DevTools knobs (response overrides, user verification, presence) a scenario turns."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from harness.accounts import TestAccount
from harness.pages import (
    IndexPage,
    LoginPage,
    ReauthenticateForm,
    TwoFactorPage,
    WebAuthnError,
    WebAuthnProvisionPage,
)
from virtual_authenticators.cdp import CdpAuthenticator, CdpOptions
from virtual_authenticators.soft import SoftKey

pytestmark = [pytest.mark.browser, pytest.mark.needs("webauthn")]

KEY = "Chromium's virtual key"


@pytest.fixture
def chromium_only(browser_name: str) -> None:
    if browser_name != "chromium":
        pytest.skip("the DevTools virtual authenticator exists only in Chromium")


@pytest.fixture
def cdp_key(chromium_only: None, page: Page) -> Iterator[CdpAuthenticator]:
    with CdpAuthenticator(page) as key:
        yield key


def enrol_in_page(page: Page, account: TestAccount) -> None:
    LoginPage(page).password_step(account.username, account.password)
    provision = WebAuthnProvisionPage(page).open()
    ReauthenticateForm(page).confirm_if_asked(account.password)
    provision.enrol("my key", authenticator=KEY)
    assert provision.errors.all_inner_texts() == []
    IndexPage(page).log_out()


@pytest.mark.requirement("WEBAUTHN-ERRORS-01")
@pytest.mark.parametrize(
    "override",
    [
        pytest.param({}, id="honest", marks=pytest.mark.requirement("WEBAUTHN-LOGIN-01")),
        pytest.param(
            {"bogus_signature": True},
            id="bad-signature",
            marks=pytest.mark.requirement("WEBAUTHN-ASSERT-SIGNATURE-01"),
        ),
        pytest.param(
            {"bad_up": True},
            id="up-cleared",
            marks=pytest.mark.requirement("WEBAUTHN-ASSERT-UP-01"),
        ),
    ],
)
def test_faulty_key_is_refused_with_the_error_on_the_page(
    page: Page, cdp_key: CdpAuthenticator, make_account, override: dict[str, bool]
) -> None:
    account = make_account(two_factor_ready=True)
    enrol_in_page(page, account)
    cdp_key.override_responses(**override)
    two_factor = LoginPage(page).password_step(account.username, account.password)
    two_factor.use_security_key(authenticator=KEY)
    refused = bool(override)
    assert two_factor.is_logged_in() is not refused
    assert bool(two_factor.webauthn_errors.count()) is refused


@pytest.mark.requirement("WEBAUTHN-UV-01")
@pytest.mark.parametrize("verified", [False, True], ids=["without-uv", "with-uv"])
def test_key_logs_in_with_or_without_user_verification(
    chromium_only: None, page: Page, make_account, verified: bool
) -> None:
    account = make_account(two_factor_ready=True)
    options = CdpOptions(has_user_verification=verified, is_user_verified=verified)
    with CdpAuthenticator(page, options):
        enrol_in_page(page, account)
        two_factor = LoginPage(page).password_step(account.username, account.password)
        two_factor.use_security_key(authenticator=KEY)
        expect(two_factor.user_indicator).to_have_text(account.username)


@pytest.mark.requirement("HARNESS-NO-HANG-01")
def test_key_nobody_touches_fails_the_step_in_time_naming_the_key(
    chromium_only: None, page: Page, make_account
) -> None:
    account = make_account(two_factor_ready=True)
    with CdpAuthenticator(page) as key:
        enrol_in_page(page, account)
        key.simulate_presence(False)
        two_factor = LoginPage(page).password_step(account.username, account.password)
        with pytest.raises(WebAuthnError, match=f"{KEY} did not answer within 2 s"):
            two_factor.use_security_key(authenticator=KEY, timeout_ms=2_000)
        assert two_factor.current_path == TwoFactorPage.path
        assert not two_factor.is_logged_in()


class TestWithoutJavaScript:
    @pytest.mark.requirement("WEBAUTHN-NOJS-02")
    def test_login_page_says_keys_need_javascript_and_offers_totp(
        self, new_context, make_account
    ) -> None:
        account = make_account(totp=True, security_key=SoftKey())
        page = new_context(java_script_enabled=False).new_page()
        LoginPage(page).password_step(account.username, account.password)
        expect(page.locator("#webauthn-auth-form .webauthn-noscript")).to_be_attached()
        expect(page.locator("#webauthn-auth-begin")).to_be_disabled()
        account.totp.wait_for_fresh_step()
        TwoFactorPage(page).submit_totp(account.totp.current())
        expect(IndexPage(page).user_indicator).to_have_text(account.username)

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
