"""The software security keys by name, as test ids and the command line name them.

Each kind makes a key whose ``fault`` may be set (``None``: honest) and which reports its
credentials and counters; :data:`FAULTS` says which faults a kind can have.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from virtual_authenticators.ctap import DEVICE_FAULTS, CtapKey
from virtual_authenticators.ctaphid import soft_hid_device
from virtual_authenticators.faulty import Fault, FaultyKey

SoftwareKey = FaultyKey | CtapKey
"""A software key: its ``fault`` may be set, and it tells its credentials and counters."""

SOFTWARE_KEYS: dict[str, Callable[[Fault | None], SoftwareKey]] = {
    "soft": FaultyKey,
    "ctap": lambda fault: CtapKey(fault=fault),
    "ctap-hid": lambda fault: CtapKey(fault=fault, transport=soft_hid_device),
}
"""``soft``: soft-webauthn based, answering in WebAuthn's JSON itself; ``ctap``: the software
CTAP2 device, driven through python-fido2's ``Fido2Client`` as a USB key is; ``ctap-hid``: the
same device reached through python-fido2's ``CtapHidDevice`` and CTAPHID framing, the code a
plugged-in key is driven through."""

FAULTS: dict[str, frozenset[Fault]] = {
    "soft": frozenset(Fault),
    "ctap": DEVICE_FAULTS,
    "ctap-hid": DEVICE_FAULTS,
}
"""The faults each kind can have: the CTAP2 device only those inside an authenticator."""


def software_key(kind: str, fault: Fault | None = None) -> SoftwareKey:
    """A new key of ``kind``, with ``fault`` or honest.

    :raises ValueError: an unknown kind, or a fault the kind cannot have.
    """
    if kind not in SOFTWARE_KEYS:
        raise ValueError(f"no software key {kind!r}: choose one of {', '.join(SOFTWARE_KEYS)}")
    if fault is not None and fault not in FAULTS[kind]:
        raise ValueError(f"a {kind} key cannot have {fault}")
    return SOFTWARE_KEYS[kind](fault)


def kinds_with(faults: Iterable[Fault | None]) -> list[tuple[str, Fault | None]]:
    """Each ``(kind, fault)`` pair, for every fault in ``faults`` and every kind that can have
    it; ``None`` (the honest twin) goes with every kind."""
    return [
        (kind, fault)
        for fault in faults
        for kind in SOFTWARE_KEYS
        if fault is None or fault in FAULTS[kind]
    ]
