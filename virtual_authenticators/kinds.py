"""The software security keys by name, as test ids and the command line name them.

Each kind makes a key whose ``fault`` may be set (``None``: honest) and which reports its
credentials and counters; :data:`FAULTS` says which faults a kind can have.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal

from virtual_authenticators.ctap import DEVICE_FAULTS, CtapKey
from virtual_authenticators.ctaphid import soft_hid_device
from virtual_authenticators.faulty import Fault, FaultyKey
from virtual_authenticators.u2f import SoftU2fDevice

SoftwareKey = FaultyKey | CtapKey
"""A software key: its ``fault`` may be set, and it tells its credentials and counters."""

SOFTWARE_KEYS: dict[str, Callable[[Fault | None], SoftwareKey]] = {
    "soft": FaultyKey,
    "ctap": lambda fault: CtapKey(fault=fault),
    "ctap-hid": lambda fault: CtapKey(fault=fault, transport=soft_hid_device),
    "ctap-hid-u2f": lambda fault: CtapKey(SoftU2fDevice(fault=fault), transport=soft_hid_device),
}
"""``soft``: soft-webauthn based, answering in WebAuthn's JSON itself; ``ctap``: the software
CTAP2 device, driven through python-fido2's ``Fido2Client`` as a USB key is; ``ctap-hid``: the
same device reached through python-fido2's ``CtapHidDevice`` and CTAPHID framing, the code a
plugged-in key is driven through; ``ctap-hid-u2f``: a FIDO U2F-only key the same way, spoken to
in CTAP1 (CTAPHID_MSG), as the first keys of PyPI's beta were."""

AUTHENTICATOR_OF: dict[str, str] = {kind: kind for kind in SOFTWARE_KEYS} | {
    "ctap-hid-u2f": "ctap-hid"
}
"""The ``--authenticator`` that chooses each kind: ``ctap-hid`` runs both HID modes."""

USER_VERIFYING = frozenset({"soft", "ctap", "ctap-hid"})
"""The kinds that can verify the user (U2F has no user verification)."""

FAULTS: dict[str, frozenset[Fault]] = {
    "soft": frozenset(Fault),
    "ctap": DEVICE_FAULTS,
    "ctap-hid": DEVICE_FAULTS,
    "ctap-hid-u2f": frozenset(
        {Fault.UP_CLEARED, Fault.BAD_SIGNATURE, Fault.COUNTER_BACKWARDS, Fault.COUNTER_FROZEN}
    ),
}
"""The faults each kind can have: the CTAP2 device only those inside an authenticator; the U2F
key those of them U2F has a field for, except WRONG_RP_ID_HASH, since a U2F client builds the
rpIdHash itself (the key's signature over another application would fail, not the hash)."""

ASSERTION_ONLY: dict[str, frozenset[Fault]] = {"ctap-hid-u2f": frozenset({Fault.UP_CLEARED})}
"""Faults a kind has only in assertions: a U2F registration carries no flags (the client
sets UP itself)."""


def software_key(kind: str, fault: Fault | None = None) -> SoftwareKey:
    """A new key of ``kind``, with ``fault`` or honest.

    :raises ValueError: an unknown kind, or a fault the kind cannot have.
    """
    if kind not in SOFTWARE_KEYS:
        raise ValueError(f"no software key {kind!r}: choose one of {', '.join(SOFTWARE_KEYS)}")
    if fault is not None and fault not in FAULTS[kind]:
        raise ValueError(f"a {kind} key cannot have {fault}")
    return SOFTWARE_KEYS[kind](fault)


def kinds_with(
    faults: Iterable[Fault | None], ceremony: Literal["registration", "assertion"]
) -> list[tuple[str, Fault | None]]:
    """Each ``(kind, fault)`` pair, for every fault in ``faults`` and every kind that can have
    it in ``ceremony``; ``None`` (the honest twin) goes with every kind."""
    return [
        (kind, fault)
        for fault in faults
        for kind in SOFTWARE_KEYS
        if fault is None or fault in _faults_in(kind, ceremony)
    ]


def _faults_in(kind: str, ceremony: Literal["registration", "assertion"]) -> frozenset[Fault]:
    if ceremony == "registration":
        return FAULTS[kind] - ASSERTION_ONLY.get(kind, frozenset())
    return FAULTS[kind]
