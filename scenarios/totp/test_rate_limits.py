"""Rate limits on the password and second-factor steps (NIST SP 800-63B §5.2.2, ASVS 2.2.1)."""

import secrets
from collections.abc import Callable
from functools import partial

import pytest

from harness.accounts import TestAccount
from harness.client import TOTP_FORM, HtmlPage, IndexClient, at_once

pytestmark = [pytest.mark.protocol, pytest.mark.needs("totp")]


CHANNELS = ["totp", "recovery-code"]
"""The second-factor channels a protocol-level session answers with a form."""


def second_factor(
    make_client: Callable[[], IndexClient], account: TestAccount, channel: str, right: bool
) -> HtmlPage:
    """A new session's password step, then a right or a wrong answer on ``channel`` (``totp`` or
    ``recovery-code``)."""
    client = make_client()
    two_factor_url = client.password_step(account.username, account.password)
    if channel == "recovery-code":
        code = account.unused_recovery_code() if right else secrets.token_hex(8)
        return client.recovery_code_login(two_factor_url, code)
    if right:
        account.totp.wait_for_fresh_step(3)
    code = account.totp.current() if right else account.totp.wrong_code()
    return client.two_factor_totp(two_factor_url, code)


def around_a_success(
    make_client: Callable[[], IndexClient],
    account: TestAccount,
    failing: str,
    failures_before: int,
) -> HtmlPage:
    """``failures_before`` failures on channel ``failing``, a success on the other channel, one
    more failure on ``failing``; then the answer to a right one on ``failing``."""
    (succeeding,) = set(CHANNELS) - {failing}
    for _ in range(failures_before):
        assert second_factor(make_client, account, failing, right=False).status == 200
    assert second_factor(make_client, account, succeeding, right=True).status == 303
    assert second_factor(make_client, account, failing, right=False).status == 200
    return second_factor(make_client, account, failing, right=True)


def wrong_codes_at_once(
    make_client: Callable[[], IndexClient], account: TestAccount, count: int
) -> list[int]:
    """The statuses of ``count`` sessions sending a wrong TOTP code at the same moment."""
    clients = [make_client() for _ in range(count)]
    pages = [c.get(c.password_step(account.username, account.password)) for c in clients]
    wrong = account.totp.wrong_code()
    sends = [
        partial(c.submit_page, page, TOTP_FORM, totp_value=wrong)
        for c, page in zip(clients, pages, strict=True)
    ]
    return [answer.status for answer in at_once(*sends)]


class TestLoginRateLimit:
    @pytest.mark.requirement("RATE-LOGIN-01")
    def test_right_password_is_refused_once_the_limit_is_hit(
        self, make_account, make_client, exhaustible_limit
    ) -> None:
        allowed = exhaustible_limit("login_per_user")
        account = make_account()
        for _ in range(allowed):
            assert make_client().login(account.username, "wrong" + account.password).status == 200
        page = make_client().login(account.username, account.password)
        assert page.status == 429
        assert int(page.response.headers["Retry-After"]) > 0

    @pytest.mark.requirement("RATE-LOGIN-01")
    def test_right_password_is_accepted_below_the_limit(
        self, make_account, make_client, exhaustible_limit
    ) -> None:
        allowed = exhaustible_limit("login_per_user")
        account = make_account()
        for _ in range(allowed - 1):
            make_client().login(account.username, "wrong" + account.password)
        assert make_client().login(account.username, account.password).status == 303


class TestTwoFactorRateLimit:
    @pytest.mark.requirement("RATE-2FA-01")
    def test_right_code_is_refused_once_the_limit_is_hit_across_sessions(
        self, make_account, make_client, exhaustible_limit
    ) -> None:
        allowed = exhaustible_limit("two_factor_per_user")
        account = make_account(totp=True)
        for _ in range(allowed):
            wrong = account.totp.wrong_code()
            assert (
                make_client().log_in_with_totp(account.username, account.password, wrong).status
                == 200
            )
        client: IndexClient = make_client()
        url = client.password_step(account.username, account.password)
        account.totp.wait_for_fresh_step(3)
        page = client.two_factor_totp(url, account.totp.current())
        assert page.status == 429
        assert int(page.response.headers["Retry-After"]) > 0
        assert client.get("/manage/account/").status == 303

    @pytest.mark.requirement("RATE-2FA-02")
    def test_recovery_codes_share_the_second_factor_limit(
        self, make_account, make_client, exhaustible_limit
    ) -> None:
        allowed = exhaustible_limit("two_factor_per_user")
        account = make_account(totp=True, recovery_codes=True)
        for _ in range(allowed):
            make_client().log_in_with_totp(
                account.username, account.password, account.totp.wrong_code()
            )
        client = make_client()
        url = client.password_step(account.username, account.password)
        page = client.recovery_code_login(url, account.unused_recovery_code())
        assert page.status == 429

    @pytest.mark.requirement("RATE-2FA-02")
    def test_failed_recovery_codes_count_toward_the_second_factor_limit(
        self, make_account, make_client, exhaustible_limit
    ) -> None:
        allowed = exhaustible_limit("two_factor_per_user")
        account = make_account(totp=True, recovery_codes=True)
        for attempt in range(allowed):
            client = make_client()
            url = client.password_step(account.username, account.password)
            assert client.recovery_code_login(url, f"{attempt:016x}").status == 200
        account.totp.wait_for_fresh_step(3)
        page = make_client().log_in_with_totp(
            account.username, account.password, account.totp.current()
        )
        assert page.status == 429

    @pytest.mark.requirement("RATE-2FA-01")
    def test_right_code_is_accepted_below_the_limit(
        self, make_account, make_client, exhaustible_limit
    ) -> None:
        allowed = exhaustible_limit("two_factor_per_user")
        account = make_account(totp=True)
        client = make_client()
        url = client.password_step(account.username, account.password)
        for _ in range(allowed - 1):
            client.two_factor_totp(url, account.totp.wrong_code())
        account.totp.wait_for_fresh_step(3)
        assert client.two_factor_totp(url, account.totp.current()).status == 303


class TestSecondFactorChannels:
    @pytest.fixture
    def allowed(self, exhaustible_limit) -> int:
        return exhaustible_limit("two_factor_per_user")

    @pytest.fixture
    def account(self, make_account) -> TestAccount:
        return make_account(totp=True, recovery_codes=True)

    @pytest.mark.requirement("RATE-2FA-05")
    @pytest.mark.parametrize("failing", CHANNELS)
    def test_success_on_another_channel_keeps_the_failures_counted(
        self, account, allowed: int, make_client, failing: str
    ) -> None:
        assert around_a_success(make_client, account, failing, allowed - 1).status == 429

    @pytest.mark.requirement("RATE-2FA-05")
    @pytest.mark.parametrize("failing", CHANNELS)
    def test_right_answer_below_the_limit_is_accepted_after_a_success_on_another_channel(
        self, account, allowed: int, make_client, failing: str
    ) -> None:
        assert around_a_success(make_client, account, failing, allowed - 2).status == 303

    @pytest.mark.requirement("RATE-2FA-05")
    def test_parallel_failures_cannot_overshoot_the_limit(
        self, account, allowed: int, make_client
    ) -> None:
        statuses = wrong_codes_at_once(make_client, account, 2 * allowed)
        assert set(statuses) <= {200, 429}, statuses
        assert statuses.count(200) <= allowed, statuses
        assert second_factor(make_client, account, "totp", right=True).status == 429

    @pytest.mark.requirement("RATE-2FA-05")
    def test_parallel_failures_below_the_limit_leave_the_right_code_accepted(
        self, account, allowed: int, make_client
    ) -> None:
        assert wrong_codes_at_once(make_client, account, allowed - 1) == [200] * (allowed - 1)
        assert second_factor(make_client, account, "totp", right=True).status == 303
