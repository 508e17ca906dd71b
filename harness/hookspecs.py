"""The hooks the harness adds to pytest, for plugins and conftests to implement."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from fido2.ctap import CtapDevice


@pytest.hookspec(firstresult=True)
def pytest_harness_security_keys(config: pytest.Config) -> list[CtapDevice] | None:
    """The security keys the ``hardware`` scenarios choose from (``--key N``), in order.

    The first answer that is not ``None`` is used; the harness's own, asked last, lists the keys
    plugged in through python-fido2's ``CtapHidDevice.list_devices()``. A plugin answers with
    keys reached another way: the harness's tests give software keys behind ``CtapHidDevice``.
    """
