"""Moving-window rate limits (``limits`` library) on failed logins and failed second factors.

Each limiter counts *failures*. A view checks its limiters before looking at the secret, so
once a limit is hit even a correct password or code is refused, and hits them after a failure.
Check, verification and hit form one :meth:`RateLimits.attempt`, which reserves a place under
every limit it is checked against, so that parallel failures cannot overshoot a limit while
attempts on other keys (other users) verify in parallel. The reservations are per process:
several processes sharing a Redis storage may overshoot by the attempts the others have in
flight on the same key.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from limits import RateLimitItem, parse_many
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from reference_server.config import ServerConfig

LOCKED_OUT = (
    "There have been too many unsuccessful login attempts. You have been locked out for {}. "
    "Please try again later."
)


class RateLimitConfigError(ValueError):
    """A limit string or storage URL is unusable; the message says which and why."""


def parse_limits(text: str) -> list[RateLimitItem]:
    """Parse ``"5 per 5 minutes; 20 per hour"``; raise RateLimitConfigError when it is not."""
    try:
        items = parse_many(text)
    except ValueError as exc:
        raise RateLimitConfigError(f"bad rate limit {text!r}: {exc}") from exc
    if not items:
        raise RateLimitConfigError(f"bad rate limit {text!r}: no limit in it")
    return items


def make_storage(url: str, key_prefix: str | None = None) -> Storage:
    """The limits storage for ``url`` (``memory://``, ``redis://…``) or RateLimitConfigError.

    ``key_prefix`` prefixes every key the storage writes (Redis storages only: the others
    keep their counts to themselves); None keeps the library's own prefix.
    """
    options: dict[str, str] = {}
    if key_prefix is not None:
        if not urlsplit(url).scheme.startswith("redis"):
            raise RateLimitConfigError(
                f"a rate limit key prefix needs a redis:// storage, not {url!r}"
            )
        if not key_prefix:
            raise RateLimitConfigError("the rate limit key prefix must not be empty")
        options["key_prefix"] = key_prefix
    try:
        return storage_from_string(url, **options)
    except Exception as exc:  # limits raises ConfigurationError, ValueError, ImportError...
        raise RateLimitConfigError(f"bad rate limit storage {url!r}: {exc}") from exc


@dataclass
class Limiter:
    """Several limits on one kind of failure, keyed by an identifier (user id, IP...)."""

    name: str
    items: list[RateLimitItem]
    strategy: MovingWindowRateLimiter

    def exceeded(self, key: str) -> int | None:
        """Seconds until the identifier may try again, or None when it may try now."""
        waits = []
        for item in self.items:
            if not self.strategy.test(item, self.name, key):
                reset = self.strategy.get_window_stats(item, self.name, key).reset_time
                waits.append(max(1, math.ceil(reset - time.time())))
        return max(waits) if waits else None

    def admits(self, key: str, count: int) -> bool:
        """Whether ``count`` more failures of the identifier stay within every limit."""
        return all(self.strategy.test(item, self.name, key, cost=count) for item in self.items)

    def hit(self, key: str) -> None:
        """Count one failure for the identifier."""
        for item in self.items:
            self.strategy.hit(item, self.name, key)


Check = tuple[Limiter, str]
"""A limiter and the identifier (user, address, "global") an attempt is counted under."""


class Attempt:
    """One try at a secret under rate limits, as :meth:`RateLimits.attempt` yields it."""

    def __init__(self, retry_after: int | None) -> None:
        self.retry_after = retry_after
        """Seconds until the keys may try again: the attempt is refused; None: go ahead."""
        self.counted = False

    def count(self) -> None:
        """Count this attempt against each of its limits (a failure) when it ends."""
        self.counted = True


class RateLimits:
    """All limiters of the server, built from its configuration."""

    def __init__(self, config: ServerConfig) -> None:
        strategy = MovingWindowRateLimiter(
            make_storage(config.ratelimit_storage, config.ratelimit_key_prefix)
        )

        def limiter(name: str, text: str) -> Limiter:
            return Limiter(name, parse_limits(text), strategy)

        self.login_user = limiter("login.user", config.login_user_limit)
        self.login_ip = limiter("login.ip", config.login_ip_limit)
        self.login_global = limiter("login.global", config.login_global_limit)
        self.two_factor_user = limiter("2fa.user", config.two_factor_user_limit)
        self.two_factor_ip = limiter("2fa.ip", config.two_factor_ip_limit)
        self.password_reset = limiter("password-reset.user", config.password_reset_limit)
        # Attempts in flight by (limiter name, identifier), and the condition under which they
        # are reserved, released and waited for.
        self._in_flight: Counter[tuple[str, str]] = Counter()
        self._changed = threading.Condition()

    @contextmanager
    def attempt(self, *checks: Check) -> Iterator[Attempt]:
        """Check the ``(limiter, key)`` pairs, then hold while verifying and counting.

        Yields an :class:`Attempt`. Its ``retry_after`` is not None when a limit is already
        exceeded: refuse without looking at the secret. Otherwise verify and call
        :meth:`Attempt.count` on a failure; the failure is counted when the block ends
        (an exception included).

        Guarantee: within this process, the failures counted under any limiter and key never
        exceed its limit, however many attempts run at once. An attempt goes ahead only while
        the failures counted plus the attempts in flight on each of its keys, itself included,
        stay within every limit; else it waits (holding nothing) until attempts in flight end,
        then checks again. So attempts on keys far from their limits, such as two users'
        passwords, verify in parallel, and near a limit they are taken one after another, as
        under a single lock: a right secret is refused only once the limit is exceeded.
        """
        wanted = Counter((limiter.name, key) for limiter, key in checks)
        reserved = False
        with self._changed:
            while (wait := self.retry_after(*checks)) is None:
                if all(
                    limiter.admits(
                        key, self._in_flight[limiter.name, key] + wanted[limiter.name, key]
                    )
                    for limiter, key in checks
                ):
                    self._in_flight.update(wanted)
                    reserved = True
                    break
                self._changed.wait()
        attempt = Attempt(wait)
        try:
            yield attempt
        finally:
            with self._changed:
                # Counted and released in one step, so that failures plus attempts in flight
                # never pass a limit, even for a moment.
                if attempt.counted:
                    self.hit(*checks)
                if reserved:
                    self._in_flight.subtract(wanted)
                    for name_and_key in wanted:
                        if self._in_flight[name_and_key] <= 0:
                            del self._in_flight[name_and_key]
                    self._changed.notify_all()

    @staticmethod
    def hit(*checks: Check) -> None:
        """Count one failure against each ``(limiter, key)`` pair."""
        for limiter, key in checks:
            limiter.hit(key)

    @staticmethod
    def retry_after(*checks: Check) -> int | None:
        """The longest wait among ``(limiter, key)`` pairs, or None when none is exceeded."""
        waits = [w for limiter, key in checks if (w := limiter.exceeded(key)) is not None]
        return max(waits) if waits else None


def humanize_seconds(seconds: int) -> str:
    """``"5 minutes"``, ``"1 hour"``, ``"30 seconds"``: the wait, rounded up, in words."""
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = math.ceil(seconds / size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def locked_out_message(seconds: int) -> str:
    """Warehouse's lock-out message for a wait of ``seconds``."""
    return LOCKED_OUT.format(humanize_seconds(seconds))
