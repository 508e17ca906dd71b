"""The bundled reference server as the benchmarks use it: started once, rate limits lifted as
for a harness session, with TOTP accounts made through its pages before any timing starts."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher

from harness.accounts import AccountFactory
from harness.targets import BundledServer, Profile, Target
from reference_server.config import ServerConfig

INTERVAL = 30


@dataclass(frozen=True)
class TotpAccount:
    """What logging in needs: the password and the TOTP secret."""

    username: str
    password: str
    secret: str


@dataclass(frozen=True)
class HashSettings:
    time_cost: int
    memory_cost: int
    parallelism: int

    @classmethod
    def of_server(cls) -> HashSettings:
        fields = ServerConfig.__dataclass_fields__
        return cls(
            fields["argon2_time_cost"].default,
            fields["argon2_memory_cost"].default,
            fields["argon2_parallelism"].default,
        )

    def __str__(self) -> str:
        return f"t={self.time_cost}, m={self.memory_cost} KiB, p={self.parallelism}"

    def hasher(self) -> PasswordHasher:
        return PasswordHasher(self.time_cost, self.memory_cost, parallelism=self.parallelism)


@contextlib.contextmanager
def bundled_target(profile: str = "reference") -> Iterator[Target]:
    with tempfile.TemporaryDirectory(prefix="bench-server-") as folder:
        server = BundledServer(Profile.load(profile).for_bundled_server(), Path(folder))
        with server:
            assert server.target is not None
            yield server.target


def make_totp_accounts(target: Target, count: int, parallel: int = 4) -> list[TotpAccount]:
    """``count`` verified accounts with TOTP on, made as the harness makes them."""
    factory = AccountFactory(target)

    def make(_: int) -> TotpAccount:
        account = factory.create(totp=True)
        assert account.totp is not None
        return TotpAccount(account.username, str(account.password), str(account.totp.secret))

    with ThreadPoolExecutor(parallel) as pool:
        return list(pool.map(make, range(count)))


class TotpClock:
    """Moves each account's TOTP clock on the server (its test hook) one step further per login,
    so that one account logs in as often as wanted without its codes being refused as replays.
    """

    def __init__(self, target: Target, start: int) -> None:
        assert target.test_hooks is not None, "the bundled server's test hooks are needed"
        self.hooks = target.test_hooks
        self.start = start - start % INTERVAL
        self.steps: dict[str, int] = {}

    def next_time(self, username: str) -> int:
        """Set ``username``'s clock one step on; the Unix time its codes are now checked at."""
        step = self.steps.get(username, 0) + 1
        self.steps[username] = step
        when = self.start + step * INTERVAL + INTERVAL // 2
        self.hooks.set_totp_clock(username, when)
        return when
