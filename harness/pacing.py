"""Keeping a run under a staging server's per-address rate limits: pause, never get locked out.

Every scenario of a run reaches a staging server from the tester's one address, and Warehouse
limits logins and second-factor attempts per address (10 every 5 minutes by default). Past a
limit the server refuses every login from that address, the tester's own included, until the
window has passed. A :class:`Pacer` counts the run's attempts in the same moving windows (the
`limits` library, as the server's) and, before an attempt that would go past one, waits until
it fits, saying so in the log.

Scenarios that set out to reach a limit send their attempts :meth:`Pacer.unpaced`: the
attempts still count, so the first paced attempt after the scenario waits the window out.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping

from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)

PACED_PATHS = {
    "login": ("/account/login/",),
    "two_factor": (
        "/account/two-factor/",
        "/account/recovery-code/",
        "/account/webauthn-authenticate/validate",
    ),
}
"""The attempts each kind of limit counts, by the path they are posted to."""


class Pacer:
    """Counts a run's login and second-factor attempts and spaces them out to stay under
    ``limits``.

    :param limits: for each kind of :data:`PACED_PATHS`, the target's per-address limit in
        the `limits` library's notation (``"10 per 5 minutes; 50 per hour"``).
    :param sleep: how to wait (tests pass their own).
    :raises ValueError: a limit does not parse, or a kind is unknown.
    """

    def __init__(
        self, limits: Mapping[str, str], sleep: Callable[[float], None] = time.sleep
    ) -> None:
        unknown = set(limits) - set(PACED_PATHS)
        if unknown:
            raise ValueError(f"unknown kinds of attempt: {', '.join(sorted(unknown))}")
        self._items = {kind: parse_many(text) for kind, text in limits.items()}
        self._texts = dict(limits)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._sleep = sleep
        self._lock = threading.Lock()
        self._paced = True

    @staticmethod
    def kind_of(method: str, path: str) -> str | None:
        """Which kind of attempt a request is (``login``, ``two_factor``), or None."""
        if method.upper() != "POST":
            return None
        bare = path.split("?", 1)[0]
        for kind, paths in PACED_PATHS.items():
            if any(bare == p or bare.endswith(p) for p in paths):
                return kind
        return None

    def before(self, kind: str) -> None:
        """Count an attempt of ``kind``, first waiting, if need be, until it fits every window
        of its limit."""
        items = self._items.get(kind, [])
        with self._lock:
            while self._paced:
                full = [item for item in items if not self._limiter.test(item, kind)]
                if not full:
                    break
                reset = max(self._limiter.get_window_stats(i, kind).reset_time for i in full)
                wait = max(0.0, reset - time.time()) + 0.5
                log.warning(
                    "pausing %.0f s to stay under the target's %s limit (%s) for this address",
                    wait,
                    kind.replace("_", "-"),
                    self._texts[kind],
                )
                self._sleep(wait)
            for item in items:
                self._limiter.hit(item, kind)

    @contextlib.contextmanager
    def unpaced(self) -> Iterator[None]:
        """Attempts made inside are counted but never held back: for scenarios that must reach
        a limit."""
        self._paced = False
        try:
            yield
        finally:
            self._paced = True
