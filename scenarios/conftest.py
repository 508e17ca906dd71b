"""Scenarios run against the session's target; pytest-playwright's pages open on it."""

import pytest

from harness.accounts import TestAccount
from harness.client import IndexClient
from harness.targets import Target


@pytest.fixture(scope="session")
def base_url(target: Target) -> str:
    """pytest-base-url's fixture, pointed at the bundled server when no URL was given.

    Only scenarios override it: pytest-base-url checks the URL in an autouse fixture, and the
    project's unit tests must not start a server they do not use.
    """
    return target.base_url


@pytest.fixture
def ready_for_two_factor(make_account, client: IndexClient) -> TestAccount:
    """An account logged in on ``client`` that may add its first 2FA method now."""
    account = make_account(two_factor_ready=True)
    client.login(account.username, account.password)
    return account
