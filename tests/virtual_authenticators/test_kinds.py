"""The software keys by name."""

import pytest

from virtual_authenticators.ctap import CtapKey
from virtual_authenticators.faulty import Fault, FaultyKey
from virtual_authenticators.kinds import kinds_with, software_key
from virtual_authenticators.u2f import SoftU2fDevice


def test_each_kind_makes_its_key_with_the_fault_asked_for():
    assert software_key("soft", Fault.WRONG_ORIGIN).fault is Fault.WRONG_ORIGIN
    assert isinstance(software_key("soft"), FaultyKey)
    assert isinstance(software_key("ctap", Fault.UP_CLEARED), CtapKey)


def test_an_unknown_kind_is_refused_naming_the_kinds():
    with pytest.raises(ValueError, match="no software key 'usb': choose one of soft, ctap"):
        software_key("usb")


def test_a_fault_the_kind_cannot_have_is_refused():
    with pytest.raises(ValueError, match=r"a ctap key cannot have Fault\.WRONG_ORIGIN"):
        software_key("ctap", Fault.WRONG_ORIGIN)


def test_kinds_with_pairs_each_fault_with_the_kinds_that_can_have_it():
    pairs = kinds_with([None, Fault.WRONG_ORIGIN, Fault.UP_CLEARED], "assertion")

    assert pairs == [
        ("soft", None),
        ("ctap", None),
        ("ctap-hid", None),
        ("ctap-hid-u2f", None),
        ("soft", Fault.WRONG_ORIGIN),
        ("soft", Fault.UP_CLEARED),
        ("ctap", Fault.UP_CLEARED),
        ("ctap-hid", Fault.UP_CLEARED),
        ("ctap-hid-u2f", Fault.UP_CLEARED),
    ]


def test_a_u2f_key_has_no_flags_to_fault_at_registration():
    pairs = kinds_with([Fault.UP_CLEARED], "registration")

    assert ("ctap-hid-u2f", Fault.UP_CLEARED) not in pairs
    assert ("ctap-hid", Fault.UP_CLEARED) in pairs


def test_the_u2f_kind_speaks_ctap1_to_a_u2f_only_device_over_hid():
    key = software_key("ctap-hid-u2f", Fault.BAD_SIGNATURE)
    assert isinstance(key.device, SoftU2fDevice)
    assert key.fault is Fault.BAD_SIGNATURE
    assert "over USB HID framing" in repr(key)
    with pytest.raises(ValueError, match="a ctap-hid-u2f key cannot have"):
        software_key("ctap-hid-u2f", Fault.UV_MISSING)


def test_the_ctap_hid_kind_reaches_its_device_through_usb_hid_framing():
    key = software_key("ctap-hid", Fault.UP_CLEARED)
    assert isinstance(key, CtapKey)
    assert key.fault is Fault.UP_CLEARED
    assert "over USB HID framing" in repr(key)
    assert "over USB HID framing" not in repr(software_key("ctap"))
