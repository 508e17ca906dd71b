"""Rate limits on the password and second-factor steps (NIST SP 800-63B §5.2.2, ASVS 2.2.1)."""

import pytest

from harness.client import IndexClient
from harness.targets import Profile, RateLimits

pytestmark = pytest.mark.protocol


def limit_of(profile: Profile, name: str) -> int:
    allowed = RateLimits.first_count(getattr(profile.rate_limits, name))
    if allowed > 30:
        pytest.skip(f"the target allows {allowed} failures; too many to exhaust in a scenario")
    return allowed


class TestLoginRateLimit:
    @pytest.mark.requirement("RATE-LOGIN-01")
    def test_right_password_is_refused_once_the_limit_is_hit(
        self, make_account, make_client, target_profile: Profile
    ) -> None:
        allowed = limit_of(target_profile, "login_per_user")
        account = make_account()
        for _ in range(allowed):
            assert make_client().login(account.username, "wrong" + account.password).status == 200
        page = make_client().login(account.username, account.password)
        assert page.status == 429
        assert int(page.response.headers["Retry-After"]) > 0

    @pytest.mark.requirement("RATE-LOGIN-01")
    def test_right_password_is_accepted_below_the_limit(
        self, make_account, make_client, target_profile: Profile
    ) -> None:
        allowed = limit_of(target_profile, "login_per_user")
        account = make_account()
        for _ in range(allowed - 1):
            make_client().login(account.username, "wrong" + account.password)
        assert make_client().login(account.username, account.password).status == 303


class TestTwoFactorRateLimit:
    @pytest.mark.requirement("RATE-2FA-01")
    def test_right_code_is_refused_once_the_limit_is_hit_across_sessions(
        self, make_account, make_client, target_profile: Profile
    ) -> None:
        allowed = limit_of(target_profile, "two_factor_per_user")
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
        self, make_account, make_client, target_profile: Profile
    ) -> None:
        allowed = limit_of(target_profile, "two_factor_per_user")
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
        self, make_account, make_client, target_profile: Profile
    ) -> None:
        allowed = limit_of(target_profile, "two_factor_per_user")
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
        self, make_account, make_client, target_profile: Profile
    ) -> None:
        allowed = limit_of(target_profile, "two_factor_per_user")
        account = make_account(totp=True)
        client = make_client()
        url = client.password_step(account.username, account.password)
        for _ in range(allowed - 1):
            client.two_factor_totp(url, account.totp.wrong_code())
        account.totp.wait_for_fresh_step(3)
        assert client.two_factor_totp(url, account.totp.current()).status == 303
