"""A pytest plugin (``-p tests.harness.soft_security_keys``) that plugs in two software keys
behind python-fido2's real ``CtapHidDevice``, in place of the OS's list: a CTAP2 key (``--key
1``) and a U2F-only one (``--key 2``). So the hardware scenarios run in CI, through the HID
transport a real key is driven through."""

from __future__ import annotations

import pytest
from fido2.ctap import CtapDevice

from virtual_authenticators.ctap import SoftCtapDevice
from virtual_authenticators.ctaphid import soft_hid_device
from virtual_authenticators.u2f import SoftU2fDevice


@pytest.hookimpl
def pytest_harness_security_keys(config: pytest.Config) -> list[CtapDevice]:
    return [soft_hid_device(SoftCtapDevice()), soft_hid_device(SoftU2fDevice())]
