"""The keys the WebAuthn scenarios run with: each kind of software key, and a page with a key
behind it for each way the harness puts one there."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

import pytest
from playwright.sync_api import BrowserContext, Page

from harness.accounts import TestAccount
from harness.client import IndexClient
from virtual_authenticators.bridge import PageBridge
from virtual_authenticators.cdp import CdpAuthenticator, CdpOptions, Protocol
from virtual_authenticators.faulty import Fault
from virtual_authenticators.kinds import (
    AUTHENTICATOR_OF,
    SOFTWARE_KEYS,
    SoftwareKey,
    kinds_with,
    software_key,
)
from virtual_authenticators.playwright_credentials import PlaywrightCredentials

BROWSER_KEYS = {
    "cdp-ctap2": ("cdp",),
    "cdp-u2f": ("cdp",),
    "bridge-soft": ("bridge", "soft"),
    "bridge-ctap": ("bridge", "ctap"),
    "bridge-ctap-hid": ("bridge", "ctap-hid"),
    "bridge-ctap-hid-u2f": ("bridge", "ctap-hid"),
    "playwright-credentials": ("playwright",),
}
"""Every browser-level way, with the authenticators (``--authenticator``) it uses: Chromium's
DevTools key (FIDO2 and U2F), each software key bridged into the page, and Playwright's own
``context.credentials``."""

CEREMONY_FAULTS = [
    Fault.WRONG_ORIGIN,
    Fault.WRONG_RP_ID_HASH,
    Fault.WRONG_CHALLENGE,
    Fault.WRONG_TYPE,
    Fault.TOKEN_BINDING_PRESENT,
    Fault.UP_CLEARED,
]
"""The faults in the client data or the authenticator data that the index must refuse in
both ceremonies."""

REGISTRATION_FAULTS = [*CEREMONY_FAULTS, Fault.UNSUPPORTED_ALGORITHM]
"""The faults the index must refuse at registration (W3C WebAuthn §7.1). UV_MISSING is not
among them: the index discourages user verification, as Warehouse does."""

ASSERTION_FAULTS = [
    *CEREMONY_FAULTS,
    Fault.BAD_SIGNATURE,
    Fault.COUNTER_BACKWARDS,
    Fault.COUNTER_FROZEN,
    Fault.REPLAYED_ASSERTION,
]
"""The faults the index must refuse at login (§7.2) once the key has logged in honestly (so the
stored counter is above 0 and there is an assertion to replay). FOREIGN_CREDENTIAL_ID needs
another user's credential: its scenario is its own."""

REGISTRATION_REQUIREMENTS: Mapping[Fault | None, tuple[str, ...]] = {
    None: ("WEBAUTHN-ENROL-01", "WEBAUTHN-REG-TRUST-01"),
    Fault.WRONG_TYPE: ("WEBAUTHN-REG-TYPE-01",),  # §7.1 step 7
    Fault.WRONG_CHALLENGE: ("WEBAUTHN-REG-CHALLENGE-01",),  # §7.1 step 8
    Fault.WRONG_ORIGIN: ("WEBAUTHN-REG-ORIGIN-01",),  # §7.1 step 9
    Fault.TOKEN_BINDING_PRESENT: ("WEBAUTHN-REG-TOKENBINDING-01",),  # §7.1 step 10
    Fault.WRONG_RP_ID_HASH: ("WEBAUTHN-REG-RPID-01",),  # §7.1 step 13
    Fault.UP_CLEARED: ("WEBAUTHN-REG-UP-01",),  # §7.1 step 14
    Fault.UV_MISSING: ("WEBAUTHN-REG-UV-01",),  # §7.1 step 15
    Fault.UNSUPPORTED_ALGORITHM: ("WEBAUTHN-REG-ALG-01",),  # §7.1 step 16
}
"""The requirements (``harness/catalogue.toml``) a registration with each fault checks: the
W3C WebAuthn Level 2 §7.1 step the fault breaks; the honest twin's, that an honest key (``none``
or ``packed`` self attestation) is enrolled."""

ASSERTION_REQUIREMENTS: Mapping[Fault | None, tuple[str, ...]] = {
    None: ("WEBAUTHN-LOGIN-01",),
    Fault.FOREIGN_CREDENTIAL_ID: ("WEBAUTHN-OWNER-01",),  # §7.2 steps 5 to 7
    Fault.WRONG_TYPE: ("WEBAUTHN-ASSERT-TYPE-01",),  # §7.2 step 11
    Fault.WRONG_CHALLENGE: ("WEBAUTHN-ASSERT-CHALLENGE-01",),  # §7.2 step 12
    Fault.REPLAYED_ASSERTION: ("WEBAUTHN-CHALLENGE-03",),  # §7.2 steps 12 and 21
    Fault.WRONG_ORIGIN: ("WEBAUTHN-ASSERT-ORIGIN-01",),  # §7.2 step 13
    Fault.TOKEN_BINDING_PRESENT: ("WEBAUTHN-ASSERT-TOKENBINDING-01",),  # §7.2 step 14
    Fault.WRONG_RP_ID_HASH: ("WEBAUTHN-ASSERT-RPID-01",),  # §7.2 step 15
    Fault.UP_CLEARED: ("WEBAUTHN-ASSERT-UP-01",),  # §7.2 step 16
    Fault.UV_MISSING: ("WEBAUTHN-ASSERT-UV-01",),  # §7.2 step 17
    Fault.BAD_SIGNATURE: ("WEBAUTHN-ASSERT-SIGNATURE-01",),  # §7.2 step 20
    Fault.COUNTER_BACKWARDS: ("WEBAUTHN-ASSERT-COUNTER-01",),  # §7.2 step 21
    Fault.COUNTER_FROZEN: ("WEBAUTHN-ASSERT-COUNTER-01",),  # §7.2 step 21
}
"""The requirements an assertion with each fault checks: the §7.2 step it breaks; the honest
twin's, that an honest assertion logs in. Where a fault breaks several steps, any one of which
refuses it, it checks only the outcome they share: a foreign credential id (steps 5 to 7) that
another user's credential is refused, a replayed assertion (steps 12 and 21) that replays are."""

STEP_REQUIREMENTS: Mapping[str, Mapping[Fault | None, tuple[str, ...]]] = {
    "registration": REGISTRATION_REQUIREMENTS,
    "assertion": ASSERTION_REQUIREMENTS,
}

MakeKey = Callable[..., SoftwareKey]

TWO_FACTOR_PAGE = "/manage/account/two-factor/"


def key_labels(client: IndexClient, account: TestAccount) -> list[str]:
    """The labels of the account's keys, as its two-factor page lists them."""
    page = client.open_sensitive(TWO_FACTOR_PAGE, account.password)
    return [str(item["data-label"]) for item in page.select("#webauthn-keys li[data-label]")]


@pytest.fixture(
    params=[
        pytest.param(kind, marks=pytest.mark.authenticator(AUTHENTICATOR_OF[kind]))
        for kind in SOFTWARE_KEYS
    ]
)
def key_kind(request: pytest.FixtureRequest) -> str:
    """Each kind of software key (see :mod:`virtual_authenticators.kinds`), in turn."""
    return request.param


def with_kinds(faults: list[Fault | None], ceremony: Literal["registration", "assertion"]) -> list:
    """``(key_kind, fault)`` parameters for each software key that can have each fault, each
    marked with the requirements it checks in ``ceremony`` (see :data:`STEP_REQUIREMENTS`).

    :raises ValueError: a fault with no requirement for this ceremony.
    """
    requirements = STEP_REQUIREMENTS[ceremony]
    unmapped = [fault for fault in faults if fault not in requirements]
    if unmapped:
        raise ValueError(f"no {ceremony} requirement for {unmapped}: add it to STEP_REQUIREMENTS")
    return [
        pytest.param(
            kind,
            fault,
            id=f"{kind}-{fault.value if fault else 'honest'}",
            marks=[
                pytest.mark.requirement(*requirements[fault]),
                pytest.mark.authenticator(AUTHENTICATOR_OF[kind]),
            ],
        )
        for kind, fault in kinds_with(faults, ceremony)
    ]


@pytest.fixture
def make_key(key_kind: str) -> MakeKey:
    """Makes new keys of the scenario's kind: ``make_key()`` honest, ``make_key(fault)``."""

    def make(fault: Fault | None = None) -> SoftwareKey:
        return software_key(key_kind, fault)

    return make


@dataclass(frozen=True)
class KeyedPage:
    """A fresh page whose ``navigator.credentials`` is answered by one security key."""

    page: Page
    authenticator: str
    """Names the key in a timeout's message."""
    held: Callable[[], int]
    """How many credentials the key holds now."""


@pytest.fixture(
    params=[
        pytest.param(kind, marks=pytest.mark.authenticator(*uses))
        for kind, uses in BROWSER_KEYS.items()
    ]
)
def keyed_page(
    request: pytest.FixtureRequest,
    new_context: Callable[..., BrowserContext],
    browser_name: str,
) -> Iterator[KeyedPage]:
    kind: str = request.param
    context = new_context()
    if kind.startswith("cdp-"):
        if browser_name != "chromium":
            pytest.skip("the DevTools virtual authenticator exists only in Chromium")
        protocol = Protocol(kind.removeprefix("cdp-"))
        page = context.new_page()
        with CdpAuthenticator(page, CdpOptions(protocol=protocol)) as cdp:
            name = f"Chromium's virtual {protocol.value} key"
            yield KeyedPage(page, name, lambda: len(cdp.credentials()))
    elif kind.startswith("bridge-"):
        key = software_key(kind.removeprefix("bridge-"))
        PageBridge(context, key)
        yield KeyedPage(context.new_page(), f"bridged {key!r}", lambda: len(key.credentials))
    else:
        playwright_key = PlaywrightCredentials(context)
        yield KeyedPage(
            context.new_page(), repr(playwright_key), lambda: len(playwright_key.credentials)
        )
