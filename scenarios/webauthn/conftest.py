"""The keys the WebAuthn scenarios run with: each kind of software key, and a page with a key
behind it for each way the harness puts one there."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import BrowserContext, Page

from virtual_authenticators.bridge import PageBridge
from virtual_authenticators.cdp import CdpAuthenticator, CdpOptions, Protocol
from virtual_authenticators.faulty import Fault
from virtual_authenticators.kinds import SOFTWARE_KEYS, SoftwareKey, kinds_with, software_key
from virtual_authenticators.playwright_credentials import PlaywrightCredentials

BROWSER_KEYS = ["cdp-ctap2", "cdp-u2f", "bridge-soft", "bridge-ctap", "playwright-credentials"]
"""Every browser-level way: Chromium's DevTools key (FIDO2 and U2F), each software key bridged
into the page, and Playwright's own ``context.credentials``."""

REGISTRATION_FAULTS = [
    Fault.WRONG_ORIGIN,
    Fault.WRONG_RP_ID_HASH,
    Fault.WRONG_CHALLENGE,
    Fault.WRONG_TYPE,
    Fault.UP_CLEARED,
    Fault.UNSUPPORTED_ALGORITHM,
]
"""The faults the index must refuse at registration (W3C WebAuthn §7.1). UV_MISSING is not
among them: the index discourages user verification, as Warehouse does."""

ASSERTION_FAULTS = [
    Fault.WRONG_ORIGIN,
    Fault.WRONG_RP_ID_HASH,
    Fault.WRONG_CHALLENGE,
    Fault.WRONG_TYPE,
    Fault.UP_CLEARED,
    Fault.BAD_SIGNATURE,
    Fault.COUNTER_BACKWARDS,
    Fault.COUNTER_FROZEN,
    Fault.REPLAYED_ASSERTION,
]
"""The faults the index must refuse at login (§7.2) once the key has logged in honestly (so the
stored counter is above 0 and there is an assertion to replay). FOREIGN_CREDENTIAL_ID needs
another user's credential: its scenario is its own."""

MakeKey = Callable[..., SoftwareKey]


@pytest.fixture(params=list(SOFTWARE_KEYS))
def key_kind(request: pytest.FixtureRequest) -> str:
    """Each kind of software key (see :mod:`virtual_authenticators.kinds`), in turn."""
    return request.param


def with_kinds(faults: list[Fault | None]) -> list:
    """``(key_kind, fault)`` parameters for each software key that can have each fault."""
    return [
        pytest.param(kind, fault, id=f"{kind}-{fault.value if fault else 'honest'}")
        for kind, fault in kinds_with(faults)
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


@pytest.fixture(params=BROWSER_KEYS)
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
