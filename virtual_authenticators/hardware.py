"""Real security keys, plugged in: finding one, and the person who touches it.

A plugged-in key is a ``fido2.hid.CtapHidDevice`` (USB; NFC and BLE keys reach python-fido2
through the same HID class only when the OS presents them so). :func:`choose_key` picks one
of :func:`plugged_in_keys`; :class:`HardwareKey` drives it with :class:`CtapKey`'s code, the
code the software keys run through in CI, while :class:`PersonAtTheKey` asks the tester to
touch it, counting the seconds left, and gives the key its PIN when it asks.
"""

from __future__ import annotations

import getpass
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TextIO

from fido2.client import UserInteraction
from fido2.ctap import CtapDevice
from fido2.hid import CtapHidDevice

from virtual_authenticators.ctap import CtapKey

NO_KEY_FOUND = (
    "no security key found: plug one in (on Linux, /dev/hidraw* must be yours: see the README's"
    " tester guide for the udev rule)"
)

TOUCH_PROMPT = "Touch your security key now"

DEFAULT_TOUCH_TIMEOUT = 30.0
"""Seconds a tester has to touch the key before the request is cancelled."""


class NoSecurityKey(Exception):
    """No key can be used: none is plugged in, the OS would not list them, or it is unclear
    which of several to use. The message is one line a tester can act on."""


def plugged_in_keys() -> list[CtapHidDevice]:
    """The FIDO keys the OS lists, through python-fido2's ``CtapHidDevice.list_devices()``.

    :raises NoSecurityKey: the OS refused to list them.
    """
    try:
        return list(CtapHidDevice.list_devices())
    except OSError as error:
        raise NoSecurityKey(f"cannot list security keys: {error}") from error


def choose_key(keys: Sequence[CtapDevice], number: int | None = None) -> CtapDevice:
    """The key to use: the only one, or the ``number``-th (from 1, as ``harness doctor --keys``
    lists them).

    :raises NoSecurityKey: none is plugged in, ``number`` is out of range, or several are
        plugged in and no ``number`` says which.
    """
    if not keys:
        raise NoSecurityKey(NO_KEY_FOUND)
    if number is None:
        if len(keys) > 1:
            raise NoSecurityKey(
                f"{len(keys)} security keys are plugged in: choose one with --key N"
                " (`harness doctor --keys` lists them)"
            )
        return keys[0]
    if not 1 <= number <= len(keys):
        plugged = f"{len(keys)} security key{'s are' if len(keys) > 1 else ' is'} plugged in"
        raise NoSecurityKey(f"--key {number}: only {plugged}")
    return keys[number - 1]


class PersonAtTheKey(UserInteraction):
    """The tester beside a real key, asked on ``terminal``.

    When the key waits for a touch it prints :data:`TOUCH_PROMPT` and counts the seconds down
    to ``timeout`` on one line, until the request ends (:meth:`touch_window`). When the key asks
    for its PIN, the PIN given (``HARNESS_KEY_PIN``) is used, or ``ask_pin`` asks for it on the
    terminal, once per run; the PIN is never printed.

    :param terminal: where prompts go: the tester's terminal, not a captured stream.
    :param timeout: the seconds the countdown starts from.
    :param pin: the key's PIN, if known.
    :param ask_pin: asks for the PIN with a prompt; default :func:`getpass.getpass`, which reads
        the controlling terminal.
    """

    def __init__(
        self,
        terminal: TextIO,
        *,
        timeout: float = DEFAULT_TOUCH_TIMEOUT,
        pin: str | None = None,
        ask_pin: Callable[[str], str] = getpass.getpass,
    ) -> None:
        self.terminal = terminal
        self.timeout = timeout
        self._pin = pin
        self._ask_pin = ask_pin
        self._countdown: threading.Thread | None = None
        self._ended = threading.Event()
        self._deadline = 0.0

    @contextmanager
    def touch_window(self) -> Iterator[None]:
        """One request to the key: a countdown begun inside it ends with it, and the line is
        closed."""
        self._ended.clear()
        self._deadline = time.monotonic() + self.timeout
        try:
            yield
        finally:
            self._ended.set()
            if self._countdown is not None:
                self._countdown.join()
                self._countdown = None

    @contextmanager
    def touch_asked_for(self) -> Iterator[None]:
        """A request the harness cannot watch (a browser's own, to the key): the prompt and
        the countdown show at once, and end with it."""
        with self.touch_window():
            self.prompt_up()
            yield

    def prompt_up(self) -> None:
        """Show :data:`TOUCH_PROMPT` and the seconds left, once per request."""
        if self._countdown is not None:
            return
        self._countdown = threading.Thread(target=self._count_down, daemon=True)
        self._countdown.start()

    def request_pin(self, permissions: Any, rp_id: str | None) -> str | None:
        """The key's PIN; ``None`` (the request is refused) when there is none to give."""
        if self._pin is None:
            try:
                self._pin = self._ask_pin("PIN of your security key (or set HARNESS_KEY_PIN): ")
            except (OSError, EOFError):
                return None
        return self._pin or None

    def request_uv(self, permissions: Any, rp_id: str | None) -> bool:
        """Built-in user verification (a fingerprint) is the tester's to give: allowed."""
        return True

    def _count_down(self) -> None:
        while not self._ended.is_set():
            left = max(0, round(self._deadline - time.monotonic()))
            self.terminal.write(f"\r{TOUCH_PROMPT} ({left} s left) ")
            self.terminal.flush()
            if self._ended.wait(1.0) or left == 0:
                break
        self.terminal.write("\n")
        self.terminal.flush()


class HardwareKey(CtapKey):
    """A plugged-in key, driven as :class:`CtapKey` drives any CTAP device, with a tester at it.

    Each request runs inside the tester's :meth:`~PersonAtTheKey.touch_window` and is
    cancelled after ``tester.timeout`` seconds without a touch (a U2F key would otherwise be
    polled for ever).

    :param device: the plugged-in key (see :func:`choose_key`).
    :param tester: the person touching it.
    """

    def __init__(self, device: CtapDevice, tester: PersonAtTheKey) -> None:
        super().__init__(device, touch_timeout=tester.timeout)
        self.tester = tester
        self.user_interaction = tester

    def __repr__(self) -> str:
        descriptor = getattr(self.device, "descriptor", None)
        name = getattr(descriptor, "product_name", None) or "unnamed key"
        return f"HardwareKey({name})"

    def create(self, options: Any, origin: str) -> dict[str, Any]:
        """See :meth:`CtapKey.create`; the tester is asked to touch the key."""
        with self.tester.touch_window():
            return super().create(options, origin)

    def get(self, options: Any, origin: str) -> dict[str, Any]:
        """See :meth:`CtapKey.get`; the tester is asked to touch the key."""
        with self.tester.touch_window():
            return super().get(options, origin)
