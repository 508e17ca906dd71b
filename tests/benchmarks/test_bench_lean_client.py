"""The login load's client logs in as a browser would, and says which step refused it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pyotp
import pytest

from benchmarks.lean_client import LeanBrowser, LoginFailed
from benchmarks.server import TotpAccount, bundled_target, make_totp_accounts
from harness.targets import Target

FreshStep = Callable[[LeanBrowser, TotpAccount], int]


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    with bundled_target() as started:
        yield started


@pytest.fixture(scope="module")
def lean_base_url(target: Target) -> str:
    return target.base_url


@pytest.fixture(scope="module")
def account(target: Target) -> TotpAccount:
    (made,) = make_totp_accounts(target, 1)
    return made


def test_a_complete_login_succeeds_and_the_session_is_logged_in(
    lean: LeanBrowser, account: TotpAccount, fresh_step: FreshStep
) -> None:
    when = fresh_step(lean, account)
    lean.log_in(account, pyotp.TOTP(account.secret).at(when))
    status, location, _ = lean.send("GET", "/manage/account/")
    assert (status, location) == (200, "")


def test_the_same_code_twice_is_refused_at_the_totp_step(
    lean: LeanBrowser, account: TotpAccount, fresh_step: FreshStep
) -> None:
    when = fresh_step(lean, account)
    code = pyotp.TOTP(account.secret).at(when)
    lean.log_in(account, code)
    with pytest.raises(LoginFailed, match="the TOTP step answered 200"):
        lean.log_in(account, code)


def test_a_wrong_password_is_refused_at_the_password_step(
    lean: LeanBrowser, account: TotpAccount
) -> None:
    wrong = TotpAccount(account.username, account.password + "x", account.secret)
    with pytest.raises(LoginFailed, match="the password step answered 200"):
        lean.log_in(wrong, "000000")


def test_only_plain_http_is_spoken() -> None:
    with pytest.raises(ValueError, match="plain HTTP only"):
        LeanBrowser("https://localhost:8443")
