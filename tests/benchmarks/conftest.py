"""What the lean client's tests share: a client on the module's server, fresh TOTP steps."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator

import pytest

from benchmarks.lean_client import LeanBrowser
from benchmarks.server import INTERVAL, TotpAccount

START = int(time.time()) + 3600
STEPS = itertools.count(1)


@pytest.fixture
def lean(lean_base_url: str) -> Iterator[LeanBrowser]:
    """A lean client on the module's server, whose ``lean_base_url`` fixture names it (not
    named ``browser``: that is pytest-playwright's fixture)."""
    client = LeanBrowser(lean_base_url)
    yield client
    client.close()


@pytest.fixture
def fresh_step() -> Callable[[LeanBrowser, TotpAccount], int]:
    """Move an account's TOTP clock to a step not used before; that step's time."""

    def move(client: LeanBrowser, account: TotpAccount) -> int:
        when = START + INTERVAL * next(STEPS)
        client.set_totp_clock(account.username, when)
        return when

    return move
