"""Rate limits per client address, across accounts (OWASP ASVS 2.2.1).

Every scenario of a run comes from the same address, so the session's bundled server raises
its per-address limits; these scenarios start a server of their own with the index's figures
(warehouse-contract.md, "Numbers and messages"). On a shared server they would lock this
machine's address out of every account, so there they skip.
"""

import dataclasses
import secrets
from collections.abc import Callable

import pytest

from harness.accounts import AccountFactory, TestAccount
from harness.targets import Profile, Target

pytestmark = pytest.mark.protocol

INDEX_LIMITS_PER_ADDRESS = {
    "login_per_ip": "10 per 5 minutes",
    "two_factor_per_ip": "10 per 5 minutes; 50 per hour",
}


@pytest.fixture
def address_limited(
    target: Target, target_profile: Profile, start_bundled_server: Callable[[Profile], Target]
) -> Target:
    """A fresh bundled server of the session's policy with the index's per-address limits
    (fresh, so that no other scenario's failures count)."""
    if not target.bundled:
        pytest.skip("exhausting a per-address limit would lock this machine out of a shared server")
    limits = dataclasses.replace(target_profile.rate_limits, **INDEX_LIMITS_PER_ADDRESS)
    return start_bundled_server(dataclasses.replace(target_profile, rate_limits=limits))


def allowed(target: Target, name: str) -> int:
    count = target.profile.rate_limits.exhaustible(name)
    assert count is not None, f"{name} of the address-limited server is too high to exhaust"
    return count


def totp_accounts(target: Target, count: int) -> list[TestAccount]:
    factory = AccountFactory(target)
    return [factory.create(totp=True) for _ in range(count)]


def unknown_username() -> str:
    return "nobody" + secrets.token_hex(6)


def fail_second_factors(target: Target, accounts: list[TestAccount], failures: int) -> None:
    """``failures`` wrong TOTP codes from this address, spread over ``accounts`` so that none
    reaches its own per-user limit."""
    for n in range(failures):
        account = accounts[n % len(accounts)]
        page = target.client().log_in_with_totp(
            account.username, account.password, account.totp.wrong_code()
        )
        assert page.status == 200


def right_totp_login(target: Target, account: TestAccount) -> int:
    """The status of a right TOTP code for ``account`` from this address."""
    client = target.client()
    url = client.password_step(account.username, account.password)
    account.totp.wait_for_fresh_step(3)
    return client.two_factor_totp(url, account.totp.current()).status


class TestPasswordsPerAddress:
    @pytest.mark.requirement("RATE-LOGIN-02")
    def test_right_password_is_refused_once_the_address_failed_with_other_usernames(
        self, address_limited: Target
    ) -> None:
        account = AccountFactory(address_limited).create()
        for _ in range(allowed(address_limited, "login_per_ip")):
            page = address_limited.client().login(unknown_username(), "wrong")
            assert page.status == 200
        page = address_limited.client().login(account.username, account.password)
        assert page.status == 429
        assert int(page.response.headers["Retry-After"]) > 0

    @pytest.mark.requirement("RATE-LOGIN-02")
    def test_right_password_is_accepted_below_the_address_limit(
        self, address_limited: Target
    ) -> None:
        account = AccountFactory(address_limited).create()
        for _ in range(allowed(address_limited, "login_per_ip") - 1):
            address_limited.client().login(unknown_username(), "wrong")
        page = address_limited.client().login(account.username, account.password)
        assert page.status == 303


class TestSecondFactorsPerAddress:
    @pytest.mark.requirement("RATE-2FA-04")
    def test_right_code_is_refused_once_the_address_failed_for_other_users(
        self, address_limited: Target
    ) -> None:
        per_user = allowed(address_limited, "two_factor_per_user")
        per_address = allowed(address_limited, "two_factor_per_ip")
        others = totp_accounts(address_limited, -(-per_address // (per_user - 1)))
        (account,) = totp_accounts(address_limited, 1)
        fail_second_factors(address_limited, others, per_address)
        assert right_totp_login(address_limited, account) == 429

    @pytest.mark.requirement("RATE-2FA-04")
    def test_right_code_is_accepted_below_the_address_limit(self, address_limited: Target) -> None:
        per_user = allowed(address_limited, "two_factor_per_user")
        per_address = allowed(address_limited, "two_factor_per_ip")
        others = totp_accounts(address_limited, -(-per_address // (per_user - 1)))
        (account,) = totp_accounts(address_limited, 1)
        fail_second_factors(address_limited, others, per_address - 1)
        assert right_totp_login(address_limited, account) == 303
