"""The app clock of test mode: real time plus an offset the harness sets.

Ages the server checks against its clock (pending-login links, re-authentication, emailed
links, sessions) can only be tested in minutes or hours by moving the clock. In test mode the
app's clock is a :class:`ShiftedClock` and ``POST /_test/clock`` sets its offset; outside
test mode the app reads real time directly and nothing can move it.
"""

from __future__ import annotations

from collections.abc import Callable


class ShiftedClock:
    """``base()`` plus :attr:`offset` seconds (0 until the harness moves it).

    The offset is one int, read and replaced whole, so the threads serving requests need no
    lock to see either the old or the new time.
    """

    def __init__(self, base: Callable[[], float]) -> None:
        self._base = base
        self.offset = 0

    def __call__(self) -> float:
        return self._base() + self.offset
