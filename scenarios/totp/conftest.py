"""Fixtures of the TOTP scenarios that need the bundled server's test hooks."""

from collections.abc import Callable, Iterator

import pytest

from harness.test_hooks import TestHooks


@pytest.fixture
def totp_clock(test_hooks: TestHooks) -> Iterator[Callable[[str, int], None]]:
    """Sets a user's TOTP clock on the server: ``totp_clock(username, unix_seconds)``.

    Each clock set is back on real time after the test.
    """
    moved: list[str] = []

    def set_clock(username: str, time: int) -> None:
        moved.append(username)
        test_hooks.set_totp_clock(username, time)

    yield set_clock
    for username in moved:
        test_hooks.set_totp_clock(username, None)
