"""Moving-window rate limits (``limits`` library) on failed logins and failed second factors.

Each limiter counts *failures*. A view checks its limiters before looking at the secret, so
once a limit is hit even a correct password or code is refused, and hits them after a failure.
Check, verification and hit run under one lock so that parallel failures cannot overshoot a
limit (the lock is per process: several processes sharing a Redis storage may overshoot by
the number of processes).
"""

from __future__ import annotations

import math
import threading
import time
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

    def hit(self, key: str) -> None:
        """Count one failure for the identifier."""
        for item in self.items:
            self.strategy.hit(item, self.name, key)


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
        self._lock = threading.Lock()

    @contextmanager
    def guarded(self) -> Iterator[None]:
        """Hold while checking, verifying and hitting, so parallel failures do not overshoot."""
        with self._lock:
            yield

    @staticmethod
    def hit(*checks: tuple[Limiter, str]) -> None:
        """Count one failure against each ``(limiter, key)`` pair."""
        for limiter, key in checks:
            limiter.hit(key)

    @staticmethod
    def retry_after(*checks: tuple[Limiter, str]) -> int | None:
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
