"""Password reset by emailed link (OWASP ASVS 2.5, V3), at protocol level."""

import secrets
import time
from urllib.parse import urlsplit

import pytest

from harness.accounts import TestAccount, password_reset_link
from harness.client import IndexClient
from harness.mail import RESET_PASSWORD_PATH, Mailbox, token_in, verification_link
from harness.targets import Profile

pytestmark = [pytest.mark.protocol, pytest.mark.needs("password_reset")]


def signed_token(purpose: str, account: TestAccount, client: IndexClient, mailbox: Mailbox) -> str:
    """A genuine token the index signed for ``account``, for ``purpose``: ``password-reset``,
    ``email-verification`` (from the verification mail) or ``two-factor`` (a pending login)."""
    if purpose == "two-factor":
        return urlsplit(client.password_step(account.username, account.password)).query
    if purpose == "email-verification":
        return token_in(verification_link(mailbox, account.email))
    return token_in(password_reset_link(client, mailbox, account))


def refused(page) -> bool:
    return page.status == 303 and page.location.startswith("/account/request-password-reset/")


class TestResetLink:
    @pytest.mark.requirement("RESET-01", "PASSWORD-NOTIFY-01")
    def test_link_sets_a_new_password(self, make_account, client, make_client, mailbox) -> None:
        account = make_account()
        new_password = secrets.token_urlsafe(16)
        page = client.reset_password(password_reset_link(client, mailbox, account), new_password)
        assert (page.status, page.location) == (303, "/account/login/")
        assert make_client().login(account.username, new_password).status == 303
        assert make_client().login(account.username, account.password).status == 200
        mailbox.wait_for(account.email, "Password changed")

    @pytest.mark.requirement("RESET-02")
    def test_used_link_is_refused(self, make_account, client, mailbox) -> None:
        account = make_account()
        link = password_reset_link(client, mailbox, account)
        assert client.reset_password(link, secrets.token_urlsafe(16)).status == 303
        assert refused(client.reset_password(link, secrets.token_urlsafe(16)))

    @pytest.mark.requirement("RESET-03")
    def test_expired_link_is_refused(
        self, make_account, client, mailbox, target_profile: Profile, let_time_pass
    ) -> None:
        account = make_account()
        link = password_reset_link(client, mailbox, account)
        let_time_pass(target_profile.ages.password_reset + 1)
        assert refused(client.reset_password(link, secrets.token_urlsafe(16)))
        assert client.login(account.username, account.password).status == 303

    @pytest.mark.requirement("RESET-04")
    def test_link_dies_when_the_account_logs_in_after_asking(
        self, make_account, make_client, mailbox
    ) -> None:
        account, client = make_account(), make_client()
        link = password_reset_link(client, mailbox, account)
        make_client().login(account.username, account.password)
        assert refused(client.reset_password(link, secrets.token_urlsafe(16)))

    @pytest.mark.requirement("RESET-04")
    def test_link_dies_when_the_password_changes_another_way(
        self, make_account, make_client, mailbox
    ) -> None:
        account, client = make_account(), make_client()
        first = password_reset_link(client, mailbox, account)
        second = password_reset_link(client, mailbox, account)
        assert client.reset_password(second, secrets.token_urlsafe(16)).status == 303
        assert refused(make_client().reset_password(first, secrets.token_urlsafe(16)))

    @pytest.mark.requirement("RESET-05")
    def test_tampered_link_is_refused(self, make_account, client, mailbox) -> None:
        account = make_account()
        link = password_reset_link(client, mailbox, account)
        assert refused(client.get(link[:-4] + ("AAAA" if not link.endswith("AAAA") else "BBBB")))

    @pytest.mark.requirement("RESET-08")
    @pytest.mark.parametrize("purpose", ["password-reset", "email-verification", "two-factor"])
    def test_only_a_reset_token_is_taken_as_one(
        self, make_account, client, make_client, mailbox, purpose: str
    ) -> None:
        account = make_account(totp=True)
        token = signed_token(purpose, account, make_client(), mailbox)
        new_password = secrets.token_urlsafe(16)
        page = client.reset_password(f"{RESET_PASSWORD_PATH}?token={token}", new_password)
        assert refused(page) is (purpose != "password-reset")
        valid = new_password if purpose == "password-reset" else account.password
        assert make_client().login(account.username, valid).status == 303

    @pytest.mark.requirement("RESET-06")
    def test_reset_does_not_log_in(self, make_account, client, mailbox) -> None:
        account = make_account()
        client.reset_password(
            password_reset_link(client, mailbox, account), secrets.token_urlsafe(16)
        )
        assert client.get("/manage/account/").status == 303

    @pytest.mark.requirement("RESET-07")
    def test_reset_account_is_still_asked_for_its_second_factor(
        self, make_account, make_client, mailbox
    ) -> None:
        account = make_account(totp=True)
        client = make_client()
        new_password = secrets.token_urlsafe(16)
        client.reset_password(password_reset_link(client, mailbox, account), new_password)
        login = make_client()
        assert login.password_step(account.username, new_password).startswith(
            "/account/two-factor/?"
        )
        assert login.get("/manage/account/").status == 303


class TestResetRequest:
    @pytest.mark.requirement("RESET-ENUMERATION-01")
    def test_unknown_accounts_get_the_same_answer_as_known_ones(
        self, make_account, make_client
    ) -> None:
        account = make_account()
        answers = []
        for who in (
            account.username,
            account.email,
            "nobody" + secrets.token_hex(4),
            "nobody@example.com",
        ):
            page = make_client().request_password_reset(who)
            answers.append((page.status, page.texts("#password-reset-sent")))
        assert answers[0][1], "the known account's answer has no #password-reset-sent"
        assert all(answer == answers[0] for answer in answers)

    @pytest.mark.requirement("RESET-LIMIT-01")
    def test_requests_beyond_the_limit_send_no_mail_and_look_the_same(
        self, make_account, client, mailbox, exhaustible_limit
    ) -> None:
        allowed = exhaustible_limit("password_reset_per_user", at_most=20)
        account = make_account()
        answers = [client.request_password_reset(account.username) for _ in range(allowed + 1)]
        mailbox.wait_for(account.email, "Password reset", after=allowed - 1)
        time.sleep(1)
        assert mailbox.count(account.email, "Password reset") == allowed
        assert answers[-1].status == answers[0].status
        assert answers[-1].texts("#password-reset-sent") == answers[0].texts("#password-reset-sent")
