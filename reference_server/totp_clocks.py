"""Per-user TOTP clocks of test mode: the time a user's TOTP codes are checked at.

Only a server in test mode has a :class:`TotpClocks`; the harness sets a user's clock through
``POST /_test/totp-clock`` to check the published RFC 6238 vectors. Clocks are per user, not
global, so that scenarios running in parallel on one server do not move each other's time.
They live in the process's memory and die with it, like the test mode that made them.
"""

from __future__ import annotations

import threading


class TotpClocks:
    """Fixed TOTP times by user id; a user without one uses the app's clock."""

    def __init__(self) -> None:
        self._times: dict[int, int] = {}
        # Waitress serves each request in its own thread.
        self._lock = threading.Lock()

    def set(self, user_id: int, time: int | None) -> None:
        """Fix ``user_id``'s TOTP time at ``time`` (POSIX seconds), or restore real time (None)."""
        with self._lock:
            if time is None:
                self._times.pop(user_id, None)
            else:
                self._times[user_id] = time

    def get(self, user_id: int) -> int | None:
        """The fixed TOTP time of ``user_id``, or None when the user runs on real time."""
        with self._lock:
            return self._times.get(user_id)
