"""After the administrators wipe a user's security keys (as PyPI warned its 2019 beta testers
they might) or reset their 2FA, the user can still get in, and is told how."""

import pytest

from harness.admin import AdminCommands
from harness.client import IndexClient
from harness.mail import Mailbox
from harness.targets import Target
from virtual_authenticators.kinds import software_key

pytestmark = [pytest.mark.protocol, pytest.mark.destructive]

WIPED_NOTICE = "security devices were removed"


@pytest.fixture
def admin(target: Target) -> AdminCommands:
    if target.admin is None:
        pytest.skip("needs the bundled server's admin commands; this target has none")
    return target.admin


class TestWebAuthnWipe:
    @pytest.mark.requirement("ADMIN-WIPE-01")
    def test_totp_still_logs_in_once_the_keys_are_wiped(
        self, admin: AdminCommands, make_account, client: IndexClient
    ) -> None:
        account = make_account(totp=True, security_key=software_key("soft"))
        admin.wipe_webauthn(account.username)
        account.totp.wait_for_fresh_step(3)
        page = client.log_in_with_totp(account.username, account.password, account.totp.current())
        assert page.status == 303
        assert client.get("/manage/account/").status == 200

    @pytest.mark.requirement("ADMIN-WIPE-01")
    def test_a_recovery_code_still_logs_in_once_the_keys_are_wiped(
        self, admin: AdminCommands, make_account, client: IndexClient
    ) -> None:
        account = make_account(totp=True, recovery_codes=True, security_key=software_key("soft"))
        admin.wipe_webauthn(account.username)
        two_factor_url = client.password_step(account.username, account.password)
        page = client.recovery_code_login(two_factor_url, account.unused_recovery_code())
        assert page.status == 303
        assert client.get("/manage/account/").status == 200

    @pytest.mark.requirement("ADMIN-WIPE-01")
    def test_a_wiped_key_no_longer_logs_in(
        self, admin: AdminCommands, make_account, client: IndexClient, make_client
    ) -> None:
        account = make_account(totp=True, security_key=software_key("soft"))
        assert (
            make_client()
            .log_in_with_key(account.username, account.password, account.security_key)
            .succeeded
        )
        admin.wipe_webauthn(account.username)
        answer = client.log_in_with_key(account.username, account.password, account.security_key)
        assert not answer.succeeded
        assert client.get("/manage/account/").status == 303

    @pytest.mark.requirement("ADMIN-WIPE-02")
    def test_with_no_other_factor_the_user_is_told_how_to_recover(
        self, admin: AdminCommands, make_account, client: IndexClient, mailbox: Mailbox
    ) -> None:
        account = make_account(security_key=software_key("soft"))
        admin.wipe_webauthn(account.username)
        page = client.login(account.username, account.password)
        assert page.status == 303
        landing = client.follow(page)
        assert any(WIPED_NOTICE in text for text in landing.flashes("warning"))
        mail = mailbox.wait_for(account.email, "Your security devices were removed")
        assert "Two-factor authentication" in mail.text

    @pytest.mark.requirement("ADMIN-WIPE-02")
    def test_with_its_key_still_enrolled_the_login_asks_for_the_second_factor(
        self, make_account, client: IndexClient
    ) -> None:
        account = make_account(security_key=software_key("soft"))
        page = client.login(account.username, account.password)
        assert page.status == 303
        assert page.location.startswith("/account/two-factor/?")


class TestTwoFactorReset:
    @pytest.mark.requirement("ADMIN-RESET-01")
    def test_after_a_reset_the_password_logs_in_and_the_user_is_mailed(
        self, admin: AdminCommands, make_account, client: IndexClient, mailbox: Mailbox
    ) -> None:
        account = make_account(totp=True, recovery_codes=True, security_key=software_key("soft"))
        admin.reset_two_factor(account.username)
        page = client.login(account.username, account.password)
        assert (page.status, page.location) == (303, "/manage/projects/")
        mailbox.wait_for(account.email, "Two-factor authentication was reset")
