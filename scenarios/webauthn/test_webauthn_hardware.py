"""A tester's own security key, plugged in: enrolled, logging in, refused a second enrolment,
at protocol level (python-fido2 drives the key) and in a real browser (the browser drives it).

Each scenario waits for the tester to touch the key, so they run only with ``--authenticator
hid``; without a key they skip, saying so. In CI the same protocol-level scenarios drive the
software keys behind python-fido2's ``CtapHidDevice`` (``tests/harness/test_hardware_run.py``).
"""

import pytest
from playwright.sync_api import Page

from harness.accounts import TestAccount
from harness.pages import (
    IndexPage,
    LoginPage,
    ReauthenticateForm,
    TwoFactorPage,
    WebAuthnProvisionPage,
)
from scenarios.webauthn.conftest import key_labels
from virtual_authenticators.base import ExcludedCredentialError
from virtual_authenticators.hardware import HardwareKey, PersonAtTheKey

pytestmark = [
    pytest.mark.hardware,
    pytest.mark.authenticator("hid"),
    pytest.mark.needs("webauthn"),
]

LABEL = "tester's key"


@pytest.mark.protocol
class TestPluggedInKey:
    @pytest.mark.requirement("WEBAUTHN-ENROL-01", "WEBAUTHN-LOGIN-01")
    def test_key_is_enrolled_and_completes_the_login(
        self, ready_for_two_factor: TestAccount, hardware_key: HardwareKey, client, make_client
    ) -> None:
        account = ready_for_two_factor
        answer = client.enrol_security_key(hardware_key, LABEL, account.password)
        assert answer.succeeded, answer.errors
        assert key_labels(client, account) == [LABEL]
        login = make_client()
        answer = login.log_in_with_key(account.username, account.password, hardware_key)
        assert answer.succeeded, answer.errors
        assert login.get("/manage/account/").status == 200

    @pytest.mark.requirement("WEBAUTHN-ENROL-02", "WEBAUTHN-REG-OPTIONS-02")
    def test_key_enrolled_already_is_not_enrolled_twice(
        self, ready_for_two_factor: TestAccount, hardware_key: HardwareKey, client
    ) -> None:
        account = ready_for_two_factor
        assert client.enrol_security_key(hardware_key, LABEL, account.password).succeeded
        with pytest.raises(ExcludedCredentialError):
            client.enrol_security_key(hardware_key, "again", account.password)
        assert key_labels(client, account) == [LABEL]


@pytest.fixture
def headed(pytestconfig: pytest.Config, browser_name: str) -> None:
    """The browser shows its own security-key dialogs, which a tester must see."""
    if not pytestconfig.getoption("headed"):
        pytest.skip("the browser-level hardware scenarios need --headed: the browser asks there")


@pytest.mark.browser
@pytest.mark.requirement("WEBAUTHN-ENROL-01", "WEBAUTHN-LOGIN-01")
def test_key_is_enrolled_and_logs_in_through_the_browser(
    headed: None,
    security_key_device: object,
    tester_at_the_key: PersonAtTheKey,
    page: Page,
    make_account,
) -> None:
    account = make_account(two_factor_ready=True)
    timeout_ms = tester_at_the_key.timeout * 1000
    LoginPage(page).password_step(account.username, account.password)
    provision = WebAuthnProvisionPage(page).open()
    ReauthenticateForm(page).confirm_if_asked(account.password)
    with tester_at_the_key.touch_asked_for():
        provision.enrol(LABEL, authenticator="your security key", timeout_ms=timeout_ms)
    assert provision.errors.all_inner_texts() == []
    IndexPage(page).log_out()
    two_factor: TwoFactorPage = LoginPage(page).password_step(account.username, account.password)
    with tester_at_the_key.touch_asked_for():
        two_factor.use_security_key(authenticator="your security key", timeout_ms=timeout_ms)
    assert two_factor.is_logged_in()
