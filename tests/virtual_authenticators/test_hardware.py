"""A plugged-in key as the harness drives it: choosing one, the tester's prompts, and the
ceremonies through python-fido2's real ``CtapHidDevice``, with the software keys (CTAP2 and
U2F-only) standing in for a plugged-in one."""

from __future__ import annotations

import io
import threading

import pytest
from fido2.ctap import STATUS, CtapError
from fido2.ctap1 import APDU, Ctap1
from fido2.ctap2 import Ctap2

from virtual_authenticators.base import ExcludedCredentialError, TouchTimeoutError
from virtual_authenticators.ctap import SoftCtapDevice
from virtual_authenticators.ctaphid import soft_hid_device
from virtual_authenticators.hardware import (
    NO_KEY_FOUND,
    TOUCH_PROMPT,
    HardwareKey,
    NoSecurityKey,
    PersonAtTheKey,
    choose_key,
)
from virtual_authenticators.u2f import SoftU2fDevice

from .ceremonies import authenticate, register

DEVICES = {"ctap2": SoftCtapDevice, "u2f": SoftU2fDevice}


class UntouchedCtap2Device(SoftCtapDevice):
    """A CTAP2 key nobody touches: it asks for the touch until the request is cancelled."""

    def call(self, cmd, data=b"", event=None, on_keepalive=None):
        if data[:1] != bytes([Ctap2.CMD.GET_INFO]):
            on_keepalive(STATUS.UPNEEDED)
            event.wait(10)
            return bytes([CtapError.ERR.KEEPALIVE_CANCEL])
        return super().call(cmd, data, event, on_keepalive)


class UntouchedU2fDevice(SoftU2fDevice):
    """A U2F key nobody touches: REGISTER and AUTHENTICATE answer "touch me" each time."""

    def call(self, cmd, data=b"", event=None, on_keepalive=None):
        if data[1:2] in (bytes([Ctap1.INS.REGISTER]), bytes([Ctap1.INS.AUTHENTICATE])):
            return APDU.USE_NOT_SATISFIED.to_bytes(2, "big")
        return super().call(cmd, data, event, on_keepalive)


def person(timeout: float = 30.0, **kwargs) -> tuple[PersonAtTheKey, io.StringIO]:
    terminal = io.StringIO()
    return PersonAtTheKey(terminal, timeout=timeout, **kwargs), terminal


class TestChoosingAKey:
    def test_only_key_is_chosen_without_a_number(self) -> None:
        key = object()
        assert choose_key([key]) is key

    def test_numbered_key_is_chosen_from_one(self) -> None:
        first, second = object(), object()
        assert choose_key([first, second], 2) is second

    def test_no_key_says_none_was_found(self) -> None:
        with pytest.raises(NoSecurityKey, match=r"^no security key found"):
            choose_key([])
        assert "\n" not in NO_KEY_FOUND

    def test_several_keys_without_a_number_ask_for_one(self) -> None:
        with pytest.raises(NoSecurityKey, match="2 security keys are plugged in: choose one"):
            choose_key([object(), object()])

    def test_number_beyond_the_keys_plugged_in_is_refused(self) -> None:
        with pytest.raises(NoSecurityKey, match="--key 3: only 2 security keys are plugged in"):
            choose_key([object(), object()], 3)


class TestPersonAtTheKey:
    def test_given_pin_is_used_without_asking(self) -> None:
        asked = []
        tester, _ = person(pin="246810", ask_pin=asked.append)
        assert tester.request_pin(None, "localhost") == "246810"
        assert asked == []

    def test_pin_is_asked_for_once(self) -> None:
        asked = []

        def ask(prompt: str) -> str:
            asked.append(prompt)
            return "135790"

        tester, terminal = person(ask_pin=ask)
        assert tester.request_pin(None, "localhost") == "135790"
        assert tester.request_pin(None, "localhost") == "135790"
        assert len(asked) == 1
        assert "135790" not in terminal.getvalue()

    def test_pin_that_cannot_be_asked_for_refuses_the_request(self) -> None:
        def no_terminal(prompt: str) -> str:
            raise OSError("no controlling terminal")

        tester, _ = person(ask_pin=no_terminal)
        assert tester.request_pin(None, "localhost") is None

    def test_prompt_counts_down_and_ends_its_line_with_the_request(self) -> None:
        tester, terminal = person(timeout=5)
        with tester.touch_window():
            tester.prompt_up()
            tester.prompt_up()  # a second keep-alive shows no second countdown
            threading.Event().wait(1.2)
        shown = terminal.getvalue()
        assert f"\r{TOUCH_PROMPT} (5 s left) " in shown
        assert f"\r{TOUCH_PROMPT} (4 s left) " in shown
        assert shown.endswith("\n")
        assert shown.count("\n") == 1


@pytest.mark.parametrize("kind", DEVICES)
class TestHardwareKeyThroughHid:
    def test_key_registers_and_authenticates(self, relying_party, kind: str) -> None:
        tester, _ = person()
        key = HardwareKey(soft_hid_device(DEVICES[kind]()), tester)
        credential = register(key, relying_party).credential_data
        assert authenticate(key, relying_party, [credential]) == credential

    def test_key_registered_already_is_excluded(self, relying_party, kind: str) -> None:
        tester, _ = person()
        key = HardwareKey(soft_hid_device(DEVICES[kind]()), tester)
        register(key, relying_party)
        options, _ = relying_party.registration_options(b"user-1")  # excludes the credential
        with pytest.raises(ExcludedCredentialError):
            key.create(options, relying_party.origin)

    def test_key_left_untouched_is_cancelled_after_the_timeout(
        self, relying_party, kind: str
    ) -> None:
        untouched = {"ctap2": UntouchedCtap2Device, "u2f": UntouchedU2fDevice}[kind]
        tester, terminal = person(timeout=1.5)
        key = HardwareKey(soft_hid_device(untouched()), tester)
        options, _ = relying_party.registration_options(b"user-1")
        with pytest.raises(TouchTimeoutError, match=r"not touched within 1\.5 s"):
            key.create(options, relying_party.origin)
        assert TOUCH_PROMPT in terminal.getvalue()
