"""The leanest login, figure 4's comparison, does a login's checks: its throughput is that of a
server refusing what it must refuse."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pyotp
import pytest

from benchmarks import lean_login_server
from benchmarks.lean_client import LeanBrowser, LoginFailed
from benchmarks.lean_login_server import LeanServer
from benchmarks.server import TotpAccount

FreshStep = Callable[[LeanBrowser, TotpAccount], int]
PASSWORD = "the lean server's password"


@pytest.fixture(scope="module")
def accounts() -> list[TotpAccount]:
    return lean_login_server.lean_accounts(2, PASSWORD)


@pytest.fixture(scope="module")
def server(accounts: list[TotpAccount]) -> Iterator[LeanServer]:
    with lean_login_server.started(accounts) as started:
        yield started


@pytest.fixture(scope="module")
def lean_base_url(server: LeanServer) -> str:
    return server.base_url


def test_a_complete_login_succeeds(
    lean: LeanBrowser, accounts: list[TotpAccount], fresh_step: FreshStep
) -> None:
    when = fresh_step(lean, accounts[0])
    lean.log_in(accounts[0], pyotp.TOTP(accounts[0].secret).at(when))
    assert set(lean.cookies) == {"session_id"}


def test_a_wrong_password_is_refused_at_the_password_step(
    lean: LeanBrowser, accounts: list[TotpAccount], fresh_step: FreshStep
) -> None:
    when = fresh_step(lean, accounts[0])
    wrong = TotpAccount(accounts[0].username, "not the password", accounts[0].secret)
    with pytest.raises(LoginFailed, match="password step answered 200"):
        lean.log_in(wrong, pyotp.TOTP(wrong.secret).at(when))


def test_the_same_code_twice_is_refused_at_the_totp_step(
    lean: LeanBrowser, accounts: list[TotpAccount], fresh_step: FreshStep
) -> None:
    when = fresh_step(lean, accounts[1])
    code = pyotp.TOTP(accounts[1].secret).at(when)
    lean.log_in(accounts[1], code)
    with pytest.raises(LoginFailed, match="TOTP step answered 200"):
        lean.log_in(accounts[1], code)


def test_another_accounts_code_is_refused_at_the_totp_step(
    lean: LeanBrowser, accounts: list[TotpAccount], fresh_step: FreshStep
) -> None:
    when = fresh_step(lean, accounts[0])
    with pytest.raises(LoginFailed, match="TOTP step answered 200"):
        lean.log_in(accounts[0], pyotp.TOTP(accounts[1].secret).at(when))


def test_a_form_without_the_sessions_csrf_token_is_refused(lean: LeanBrowser) -> None:
    lean.form_token("/account/login/")
    status, _, _ = lean.send(
        "POST", "/account/login/", {"csrf_token": "forged", "username": "lean-0", "password": ""}
    )
    assert status == 400


def test_a_two_factor_link_not_of_the_session_goes_back_to_the_login(
    lean: LeanBrowser, accounts: list[TotpAccount]
) -> None:
    token = lean.form_token("/account/login/")
    form = {"csrf_token": token, "username": accounts[0].username, "password": PASSWORD}
    status, location, _ = lean.send("POST", "/account/login/", form)
    assert (status, location.split("?")[0]) == (303, "/account/two-factor/")
    assert lean.send("GET", "/account/two-factor/?forged")[:2] == (303, "/account/login/")


def test_the_server_stops_with_its_context(accounts: list[TotpAccount]) -> None:
    with lean_login_server.started(accounts) as started:
        LeanBrowser(started.base_url).form_token("/account/login/")
    with pytest.raises(OSError):
        LeanBrowser(started.base_url, timeout=2).form_token("/account/login/")
