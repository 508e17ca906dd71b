"""A TOTP authenticator app (RFC 6238) with a clock the test controls.

It is set up the way a person sets up a phone app: from the ``otpauth://`` URI in the
provisioning QR code, or from the secret typed in by hand. Codes come from pyotp, so the
harness and the server under test share no code beyond the RFC.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pyotp

Clock = Callable[[], float]


@dataclass
class TotpApp:
    """An authenticator app holding one account's secret.

    :param secret: the base32 secret, as shown for manual entry.
    :param digits: code length (the index uses 6).
    :param interval: time step in seconds (the index uses 30).
    :param algorithm: the HMAC hash, ``sha1`` (the index's), ``sha256`` or ``sha512``.
    :param clock: returns the app's idea of now, in Unix seconds; defaults to ``time.time``,
        and a test may pass a skewed or frozen clock.
    """

    secret: str = field(repr=False)
    digits: int = 6
    interval: int = 30
    algorithm: str = "sha1"
    clock: Clock = field(default=time.time, repr=False)

    def __post_init__(self) -> None:
        self._otp = pyotp.TOTP(
            self.secret,
            digits=self.digits,
            interval=self.interval,
            digest=getattr(hashlib, self.algorithm),
        )

    @classmethod
    def from_uri(cls, uri: str, clock: Clock = time.time) -> TotpApp:
        """Set up from an ``otpauth://totp/…`` URI, as scanning the QR code does.

        :raises ValueError: the URI is not a TOTP provisioning URI.
        """
        if not uri.startswith("otpauth://totp/"):
            raise ValueError(f"not a TOTP provisioning URI: {uri[:40]!r}")
        parsed = pyotp.parse_uri(uri)
        return cls(
            parsed.secret,
            digits=parsed.digits,
            interval=parsed.interval,
            algorithm=parsed.digest().name,
            clock=clock,
        )

    def step(self) -> int:
        """The current time step (counter) of the app's clock."""
        return int(self.clock() // self.interval)

    def code_at_step(self, step: int) -> str:
        """The code for a chosen time step."""
        return self._otp.at(step * self.interval)

    def current(self) -> str:
        """The code the app shows now."""
        return self.code_at_step(self.step())

    def previous(self, steps: int = 1) -> str:
        """The code shown ``steps`` time steps ago."""
        return self.code_at_step(self.step() - steps)

    def next(self, steps: int = 1) -> str:
        """The code the app will show ``steps`` time steps from now."""
        return self.code_at_step(self.step() + steps)

    def wrong_code(self, window: int = 2) -> str:
        """A well-formed code that matches no step within ``window`` steps of now."""
        near = {self.code_at_step(self.step() + delta) for delta in range(-window, window + 1)}
        return next(
            code for n in range(len(near) + 1) if (code := str(n).zfill(self.digits)) not in near
        )

    def seconds_left_in_step(self) -> float:
        """Seconds until the code on screen changes."""
        return self.interval - (self.clock() % self.interval)

    def wait_for_fresh_step(
        self, at_least: float = 8.0, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        """Wait, if needed, until at least ``at_least`` seconds remain in the current step.

        Scenarios that send a code for a step relative to now call this first, so the server's
        clock cannot cross a step boundary between computing the code and checking it.
        """
        left = self.seconds_left_in_step()
        if left < at_least:
            sleep(left + 0.05)
