"""The harness's client of the test hooks, against a real bundled server in test mode."""

from __future__ import annotations

import base64

import pytest

from harness.accounts import AccountFactory, TestAccount
from harness.errors import TargetError
from harness.targets import BundledServer, Target
from harness.test_hooks import HookRefused, TestHooks

RFC_SECRET = base64.b32encode(b"12345678901234567890").decode("ascii")


@pytest.fixture(scope="module")
def target(server: BundledServer) -> Target:
    assert server.target is not None
    return server.target


@pytest.fixture(scope="module")
def hooks(target: Target) -> TestHooks:
    assert target.test_hooks is not None
    return target.test_hooks


@pytest.fixture(scope="module")
def totp_account(target: Target) -> TestAccount:
    return AccountFactory(target).create(totp=True)


def test_the_bundled_server_runs_in_test_mode(server: BundledServer) -> None:
    log = (server.workdir / "server.log").read_text()
    assert "TEST MODE" in log


def test_seeded_secret_logs_in_at_the_users_test_time_and_is_not_logged(
    server: BundledServer, target: Target, hooks: TestHooks, totp_account: TestAccount
) -> None:
    hooks.seed_totp_secret(totp_account.username, RFC_SECRET)
    hooks.set_totp_clock(totp_account.username, 59)
    try:
        client = target.client()
        page = client.log_in_with_totp(totp_account.username, totp_account.password, "287082")
        assert page.status == 303
    finally:
        hooks.set_totp_clock(totp_account.username, None)
    assert RFC_SECRET not in (server.workdir / "server.log").read_text()


def test_unknown_user_is_refused_with_its_status(hooks: TestHooks) -> None:
    with pytest.raises(HookRefused, match=r"^test hook /_test/totp-clock refused with 404: ") as e:
        hooks.set_totp_clock("no-such-user", 59)
    assert e.value.status == 404


def test_user_without_totp_cannot_be_seeded(target: Target, hooks: TestHooks) -> None:
    account = AccountFactory(target).create(verified=False)
    with pytest.raises(HookRefused, match="409") as e:
        hooks.seed_totp_secret(account.username, RFC_SECRET)
    assert e.value.status == 409
    assert RFC_SECRET not in str(e.value)


def test_malformed_secret_is_refused_in_one_line(
    hooks: TestHooks, totp_account: TestAccount
) -> None:
    with pytest.raises(HookRefused) as e:
        hooks.seed_totp_secret(totp_account.username, "not base32\nat all")
    assert e.value.status == 400
    assert "\n" not in str(e.value)


def test_a_server_without_the_hooks_is_a_target_error(target: Target) -> None:
    with pytest.raises(TargetError, match="--test-mode"):
        TestHooks(target.base_url + "/elsewhere").set_totp_clock("anyone", 59)


def test_an_unreachable_server_is_a_target_error() -> None:
    with pytest.raises(TargetError, match="unreachable"):
        TestHooks("http://localhost:9", timeout=2).set_totp_clock("anyone", 59)
