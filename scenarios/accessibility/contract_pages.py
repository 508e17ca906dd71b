"""The pages of the contract a person sees in the login and two-factor flows, by name, and how a
browser reaches each: the pages the accessibility scenarios check one by one.

Each opener makes the account the page needs, logs in through the pages as a person would, opens
the page and checks that it is the page meant, so that a check never passes on another page (a
redirect to the login page, say).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from harness.accounts import TestAccount
from harness.pages import (
    LoginPage,
    ManageAccountPage,
    ReauthenticateForm,
    RecoveryCodeBurnPage,
    RecoveryCodesPage,
    RegisterPage,
    RequestPasswordResetPage,
    TotpProvisionPage,
    TwoFactorManagePage,
    TwoFactorPage,
    WebAuthnProvisionPage,
)
from harness.targets import Profile
from virtual_authenticators.kinds import software_key


@dataclass(frozen=True)
class Visit:
    """What an opener needs: the browser page and the scenario's fixtures.

    :param page: the page to open the contract's page in (its viewport already set).
    :param make_account: the plugin's account factory.
    :param let_time_pass: the fixture that ages the target's clock.
    :param profile: the target's profile (age limits).
    """

    page: Page
    make_account: Callable[..., TestAccount]
    let_time_pass: Callable[[int], None]
    profile: Profile


def skip_without(visit: Visit, feature: str) -> None:
    """Skip the page's scenario, saying why, when the target lacks ``feature``."""
    reason = visit.profile.lacking(feature)
    if reason is not None:
        pytest.skip(reason)


def log_in(visit: Visit, account: TestAccount) -> None:
    """Log ``account`` in through the login page, and the TOTP step when it has TOTP."""
    LoginPage(visit.page).password_step(account.username, account.password)
    if account.totp is not None:
        two_factor = TwoFactorPage(visit.page)
        account.totp.wait_for_fresh_step()
        two_factor.submit_totp(account.totp.current())
    expect(LoginPage(visit.page).user_indicator).to_have_text(account.username)


def _login(visit: Visit) -> None:
    LoginPage(visit.page).open()
    expect(visit.page.locator("input#username[name=username]")).to_be_visible()


def _register(visit: Visit) -> None:
    RegisterPage(visit.page).open()
    expect(visit.page.locator("input#new_password")).to_be_visible()


def _password_reset_request(visit: Visit) -> None:
    RequestPasswordResetPage(visit.page).open()
    expect(visit.page.locator("input#username_or_email")).to_be_visible()


def _two_factor_totp(visit: Visit) -> None:
    account = visit.make_account(totp=True, recovery_codes=True)
    two_factor = LoginPage(visit.page).password_step(account.username, account.password)
    assert two_factor.is_shown()


def _two_factor_security_key(visit: Visit) -> None:
    account = visit.make_account(security_key=software_key("soft"))
    two_factor = LoginPage(visit.page).password_step(account.username, account.password)
    assert two_factor.current_path == TwoFactorPage.path
    # The page's script enables the button once it knows the browser has WebAuthn.
    expect(visit.page.locator("#webauthn-auth-begin")).to_be_enabled()


def _totp_provision(visit: Visit) -> None:
    account = visit.make_account(two_factor_ready=True)
    log_in(visit, account)
    TotpProvisionPage(visit.page).open()
    ReauthenticateForm(visit.page).confirm_if_asked(account.password)
    expect(visit.page.locator("form.totp-form__form #totp_value")).to_be_visible()


def _webauthn_provision(visit: Visit) -> None:
    account = visit.make_account(two_factor_ready=True)
    log_in(visit, account)
    WebAuthnProvisionPage(visit.page).open()
    ReauthenticateForm(visit.page).confirm_if_asked(account.password)
    expect(visit.page.locator("#webauthn-provision-begin")).to_be_enabled()


def _recovery_codes(visit: Visit) -> None:
    # The codes on this page are secrets: the checks read no page text and attach none.
    skip_without(visit, "recovery_codes")
    account = visit.make_account()
    log_in(visit, account)
    codes = RecoveryCodesPage(visit.page).generate(account.password)
    assert len(codes) == 8


def _recovery_codes_burn(visit: Visit) -> None:
    account = visit.make_account(recovery_codes=True)
    log_in(visit, account)
    RecoveryCodeBurnPage(visit.page).open()
    expect(visit.page.locator("input#recovery_code_value")).to_be_visible()


def _reauthenticate(visit: Visit) -> None:
    # The recovery codes' page is the one that asks for the password after seconds.
    skip_without(visit, "recovery_codes")
    account = visit.make_account()
    log_in(visit, account)
    visit.let_time_pass(visit.profile.ages.reauthenticate_recovery_codes + 1)
    RecoveryCodesPage(visit.page).open()
    assert ReauthenticateForm(visit.page).is_shown()


def _manage_account(visit: Visit) -> None:
    account = visit.make_account(totp=True)
    log_in(visit, account)
    ManageAccountPage(visit.page).open()
    ReauthenticateForm(visit.page).confirm_if_asked(account.password)
    expect(visit.page.locator("#account-emails")).to_be_visible()


def _manage_two_factor(visit: Visit) -> None:
    # TOTP and a security key, so that the page shows both methods' removal forms.
    account = visit.make_account(totp=True, security_key=software_key("soft"))
    log_in(visit, account)
    manage = TwoFactorManagePage(visit.page).open()
    ReauthenticateForm(visit.page).confirm_if_asked(account.password)
    expect(manage.security_keys).to_have_count(1)


CONTRACT_PAGES: dict[str, Callable[[Visit], None]] = {
    "login": _login,
    "register": _register,
    "password-reset-request": _password_reset_request,
    "two-factor-totp": _two_factor_totp,
    "two-factor-security-key": _two_factor_security_key,
    "totp-provision": _totp_provision,
    "webauthn-provision": _webauthn_provision,
    "recovery-codes": _recovery_codes,
    "recovery-codes-burn": _recovery_codes_burn,
    "reauthenticate": _reauthenticate,
    "manage-account": _manage_account,
    "manage-two-factor": _manage_two_factor,
}
"""Each page's name (the scenarios' parameter ids) and its opener."""
