"""The login load's client logs in as a browser would, and says which step refused it."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import pyotp
import pytest

from benchmarks.lean_client import LeanBrowser, LoginFailed
from benchmarks.server import INTERVAL, TotpAccount, bundled_target, make_totp_accounts
from harness.targets import Target

START = int(time.time()) + 3600
STEPS = itertools.count(1)


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    with bundled_target() as started:
        yield started


@pytest.fixture(scope="module")
def account(target: Target) -> TotpAccount:
    (made,) = make_totp_accounts(target, 1)
    return made


@pytest.fixture
def lean(target: Target) -> Iterator[LeanBrowser]:
    """A lean client (not named ``browser``: that is pytest-playwright's fixture)."""
    client = LeanBrowser(target.base_url)
    yield client
    client.close()


def a_fresh_step(client: LeanBrowser, account: TotpAccount) -> int:
    """Move the account's TOTP clock to a step not used before; that step's time."""
    when = START + INTERVAL * next(STEPS)
    client.set_totp_clock(account.username, when)
    return when


def test_a_complete_login_succeeds_and_the_session_is_logged_in(
    lean: LeanBrowser, account: TotpAccount
) -> None:
    when = a_fresh_step(lean, account)
    lean.log_in(account, pyotp.TOTP(account.secret).at(when))
    status, location, _ = lean.send("GET", "/manage/account/")
    assert (status, location) == (200, "")


def test_the_same_code_twice_is_refused_at_the_totp_step(
    lean: LeanBrowser, account: TotpAccount
) -> None:
    when = a_fresh_step(lean, account)
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
