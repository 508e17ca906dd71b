"""Scenarios run against the session's target; pytest-playwright's pages open on it."""

import contextlib
import time
from collections.abc import Callable, Iterator

import pytest

from harness.accounts import TestAccount
from harness.client import IndexClient
from harness.targets import Target
from harness.test_hooks import TestHooks

LONGEST_WAIT = 60
"""Seconds a scenario may sleep for time to pass on a target whose clock cannot be moved."""


@pytest.fixture(scope="session")
def base_url(target: Target) -> str:
    """pytest-base-url's fixture, pointed at the bundled server when no URL was given.

    Only scenarios override it: pytest-base-url checks the URL in an autouse fixture, and the
    project's unit tests must not start a server they do not use.
    """
    return target.base_url


@pytest.fixture
def browser_context_args(browser_context_args: dict, base_url: str) -> dict:
    """pytest-playwright's context arguments with the target's ``base_url``, per test.

    Its own fixture is session-scoped and reads ``base_url`` once per session; a browser test of
    ``tests/`` run first in the same worker would leave it without the target's URL.
    """
    return {**browser_context_args, "base_url": base_url}


@pytest.fixture
def ready_for_two_factor(make_account, client: IndexClient) -> TestAccount:
    """An account logged in on ``client`` that may add its first 2FA method now."""
    account = make_account(two_factor_ready=True)
    client.login(account.username, account.password)
    return account


@pytest.fixture
def exhaustible_limit(target: Target) -> Iterator[Callable[..., int]]:
    """How many attempts the target's rate limit ``name`` allows, for a scenario that sets out
    to reach it: ``exhaustible_limit("login_per_user", at_most=30)``. The scenario's attempts
    are not held back by the target's pacer, but counted: the next paced attempt after it
    waits the window out rather than be refused.

    Skips, saying why, when the profile does not know the target's limits (reaching a guessed
    one could lock an account out for hours), or when they allow more than ``at_most``.
    """
    with contextlib.ExitStack() as unpaced:

        def allowed(name: str, at_most: int = 30) -> int:
            profile = target.profile
            if not profile.rate_limits.known:
                pytest.skip(
                    f"the target profile {profile.name} does not know the target's rate"
                    " limits: reaching a guessed one could lock an account out"
                )
            count = profile.rate_limits.exhaustible(name, at_most)
            if count is None:
                limit = getattr(profile.rate_limits, name)
                pytest.skip(f"the target allows {limit!r}; too many to use up in a scenario")
            if target.pacer is not None:
                unpaced.enter_context(target.pacer.unpaced())
            return count

        yield allowed


@pytest.fixture
def test_hooks(target: Target) -> TestHooks:
    """The target's test hooks, or a skip on a target without them (any remote one)."""
    if target.test_hooks is None:
        pytest.skip("needs the bundled server's test hooks (--test-mode); this target has none")
    return target.test_hooks


@pytest.fixture
def server_clock(test_hooks: TestHooks) -> Iterator[Callable[[int], None]]:
    """Moves the server's clock ahead: ``server_clock(seconds)``; real time after the test.

    The whole server's time moves, so only accounts made for the test should be used while
    it is ahead.
    """
    yield test_hooks.set_clock_offset
    test_hooks.set_clock_offset(0)


@pytest.fixture
def let_time_pass(target: Target) -> Iterator[Callable[[int], None]]:
    """Lets ``seconds`` pass for the target: ``let_time_pass(seconds)``.

    The bundled server's clock jumps ahead (real time again after the test); on a target
    without test hooks the scenario sleeps, and skips when that would take over a minute.
    """
    hooks = target.test_hooks
    ahead = 0

    def let_pass(seconds: int) -> None:
        nonlocal ahead
        if hooks is None:
            if seconds > LONGEST_WAIT:
                pytest.skip(f"waiting {seconds} s for this target's clock is too long")
            time.sleep(seconds)
            return
        ahead += seconds
        hooks.set_clock_offset(ahead)

    yield let_pass
    if hooks is not None and ahead:
        hooks.set_clock_offset(0)
