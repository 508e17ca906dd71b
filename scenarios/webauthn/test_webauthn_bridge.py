"""Security keys in a real browser, answered by a Python authenticator bridged into the page.

The bridge replaces ``navigator.credentials``, so these scenarios control exactly what the key
says (a faulty key included) in any browser; ``test_webauthn_journeys.py`` runs the honest
journeys through the bridge and through the browser-level authenticators.
"""

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, Response, expect

from harness.accounts import TestAccount
from harness.pages import (
    IndexPage,
    LoginPage,
    ReauthenticateForm,
    TwoFactorPage,
    WebAuthnProvisionPage,
)
from scenarios.webauthn.conftest import (
    ASSERTION_FAULTS,
    REGISTRATION_FAULTS,
    MakeKey,
    with_kinds,
)
from virtual_authenticators.bridge import PageBridge
from virtual_authenticators.faulty import Fault
from virtual_authenticators.kinds import SoftwareKey

pytestmark = [
    pytest.mark.browser,
    pytest.mark.authenticator("bridge"),
    pytest.mark.needs("webauthn"),
]

VALIDATE_PATH = "/account/webauthn-authenticate/validate"
PROVISION_VALIDATE_PATH = "/manage/account/webauthn-provision/validate"


@pytest.fixture
def key(make_key: MakeKey) -> SoftwareKey:
    """The honest twin; a scenario may turn a fault on later through ``key.fault``."""
    return make_key()


@pytest.fixture
def bridged_page(new_context: Callable[..., BrowserContext], key: SoftwareKey) -> Page:
    """A page of a fresh context whose ``navigator.credentials`` is ``key``."""
    context = new_context()
    PageBridge(context, key)
    return context.new_page()


def enrol(page: Page, account: TestAccount, key: SoftwareKey, label: str = "my key") -> None:
    LoginPage(page).password_step(account.username, account.password)
    provision = WebAuthnProvisionPage(page).open()
    ReauthenticateForm(page).confirm_if_asked(account.password)
    provision.enrol(label, authenticator=repr(key))
    assert provision.errors.count() == 0, provision.errors.all_inner_texts()
    assert IndexPage(page).current_path.startswith("/manage/account")
    assert len(key.credentials) == 1


def log_in_with_key(page: Page, account: TestAccount, key: SoftwareKey) -> TwoFactorPage:
    two_factor = LoginPage(page).password_step(account.username, account.password)
    two_factor.use_security_key(authenticator=repr(key))
    return two_factor


def posted_to(path: str) -> Callable[[Response], bool]:
    return lambda response: response.request.method == "POST" and path in response.url


@pytest.mark.requirement("WEBAUTHN-ERRORS-01")
@pytest.mark.parametrize(
    ("key_kind", "fault"), with_kinds([None, *REGISTRATION_FAULTS], "registration")
)
def test_faulty_registration_is_refused_with_the_servers_error_on_the_page(
    bridged_page: Page, key: SoftwareKey, make_account, fault: Fault | None
) -> None:
    page = bridged_page
    account = make_account(two_factor_ready=True)
    key.fault = fault
    LoginPage(page).password_step(account.username, account.password)
    provision = WebAuthnProvisionPage(page).open()
    ReauthenticateForm(page).confirm_if_asked(account.password)
    with page.expect_response(posted_to(PROVISION_VALIDATE_PATH), timeout=15_000) as validation:
        provision.enrol("my key", authenticator=repr(key))

    if fault is None:
        assert validation.value.ok
        assert provision.current_path.startswith("/manage/account")
        assert provision.errors.count() == 0
    else:
        server_errors = validation.value.json()["fail"]["errors"]
        assert server_errors
        assert provision.errors.all_inner_texts() == [" ".join(server_errors)]
        assert provision.current_path == WebAuthnProvisionPage.path


@pytest.mark.requirement("WEBAUTHN-ERRORS-01")
@pytest.mark.parametrize(
    ("key_kind", "fault"),
    with_kinds([None, *ASSERTION_FAULTS], "assertion"),
)
def test_faulty_assertion_is_refused_with_the_servers_error_on_the_page(
    bridged_page: Page, key: SoftwareKey, make_account, fault: Fault | None
) -> None:
    page = bridged_page
    account = make_account(two_factor_ready=True)
    enrol(page, account, key)
    IndexPage(page).log_out()
    # One honest login first, so that the signature counter the server stored is above 0.
    assert log_in_with_key(page, account, key).is_logged_in()
    IndexPage(page).log_out()

    key.fault = fault
    two_factor = LoginPage(page).password_step(account.username, account.password)
    with page.expect_response(posted_to(VALIDATE_PATH), timeout=15_000) as validation:
        two_factor.use_security_key(authenticator=repr(key))

    if fault is None:
        # The page has navigated on: the answer's body is gone, its status is not.
        assert validation.value.ok
        expect(two_factor.user_indicator).to_have_text(account.username)
        assert two_factor.webauthn_errors.count() == 0
    else:
        server_errors = validation.value.json()["fail"]["errors"]
        assert server_errors
        assert two_factor.webauthn_errors.all_inner_texts() == [" ".join(server_errors)]
        assert not two_factor.is_logged_in()
        assert two_factor.current_path == TwoFactorPage.path
