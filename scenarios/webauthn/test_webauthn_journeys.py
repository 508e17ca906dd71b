"""The main security-key journeys in a real browser, once for every way a key sits behind it.

The page's own JavaScript runs against Chromium's DevTools key (FIDO2 and U2F), Playwright's
``context.credentials`` and a Python key bridged into the page (see ``conftest.py``).
"""

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
from scenarios.webauthn.conftest import KeyedPage

pytestmark = [pytest.mark.browser, pytest.mark.needs("webauthn")]


def enrol(keyed: KeyedPage, account: TestAccount, label: str) -> WebAuthnProvisionPage:
    """Open the provisioning page (confirming the password if asked) and enrol the key."""
    provision = WebAuthnProvisionPage(keyed.page).open()
    ReauthenticateForm(keyed.page).confirm_if_asked(account.password)
    provision.enrol(label, authenticator=keyed.authenticator)
    return provision


def enrolled_labels(page: Page, account: TestAccount) -> list[str]:
    manage = TwoFactorManagePage(page).open()
    ReauthenticateForm(page).confirm_if_asked(account.password)
    return [
        str(label)
        for label in manage.security_keys.evaluate_all(
            "items => items.map(item => item.dataset.label)"
        )
    ]


@pytest.mark.requirement("WEBAUTHN-JOURNEY-01")
def test_enrol_a_key_log_out_and_log_in_with_it(keyed_page: KeyedPage, make_account) -> None:
    page = keyed_page.page
    account = make_account(two_factor_ready=True)
    LoginPage(page).password_step(account.username, account.password)
    provision = enrol(keyed_page, account, "my key")
    assert provision.errors.all_inner_texts() == []
    assert IndexPage(page).current_path.startswith("/manage/account")
    assert keyed_page.held() == 1
    assert enrolled_labels(page, account) == ["my key"]

    IndexPage(page).log_out()
    two_factor = LoginPage(page).password_step(account.username, account.password)
    two_factor.use_security_key(authenticator=keyed_page.authenticator)
    assert two_factor.webauthn_errors.all_inner_texts() == []
    expect(two_factor.user_indicator).to_have_text(account.username)


@pytest.mark.requirement("WEBAUTHN-ENROL-02")
def test_the_same_key_enrolled_twice_is_refused_by_the_key(
    keyed_page: KeyedPage, make_account
) -> None:
    page = keyed_page.page
    account = make_account(two_factor_ready=True)
    LoginPage(page).password_step(account.username, account.password)
    enrol(keyed_page, account, "first")

    again = enrol(keyed_page, account, "again")
    expect(again.errors).not_to_have_count(0)
    assert again.current_path == WebAuthnProvisionPage.path
    assert keyed_page.held() == 1
    assert enrolled_labels(page, account) == ["first"]
