"""Chromium's own virtual authenticator (the DevTools ``WebAuthn`` domain) behind one page.

The browser itself answers ``navigator.credentials`` with it, so the page's JavaScript runs
unchanged: the browser-level authenticator for journeys. It is bound to the page whose DevTools
session made it; another page of the same context has none.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from playwright.sync_api import CDPSession, Page


class Protocol(enum.Enum):
    """What the virtual key speaks: FIDO2 (CTAP2) or FIDO U2F (CTAP1)."""

    CTAP2 = "ctap2"
    U2F = "u2f"


@dataclass(frozen=True)
class CdpOptions:
    """``WebAuthn.addVirtualAuthenticator`` options (DevTools protocol names, snake_case)."""

    protocol: Protocol = Protocol.CTAP2
    transport: str = "usb"
    has_resident_key: bool = False
    has_user_verification: bool = False
    is_user_verified: bool = False
    automatic_presence_simulation: bool = True

    def to_devtools(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            "protocol": self.protocol.value,
            "transport": self.transport,
            "hasResidentKey": self.has_resident_key,
            "hasUserVerification": self.has_user_verification,
            "isUserVerified": self.is_user_verified,
            "automaticPresenceSimulation": self.automatic_presence_simulation,
        }
        if self.protocol is Protocol.CTAP2:
            options["ctap2Version"] = "ctap2_1"
        return options


class CdpAuthenticator:
    """A virtual security key added to ``page``'s browser; use as a context manager.

    :param page: a Chromium page (other browsers have no DevTools ``WebAuthn`` domain).
    :raises RuntimeError: on entry, when the browser is not Chromium.
    """

    def __init__(self, page: Page, options: CdpOptions | None = None) -> None:
        self.page = page
        self.options = options or CdpOptions()
        self._session: CDPSession | None = None
        self._id = ""

    def __enter__(self) -> CdpAuthenticator:
        if (
            self.page.context.browser is None
            or self.page.context.browser.browser_type.name != "chromium"
        ):
            raise RuntimeError("the DevTools virtual authenticator needs Chromium")
        self._session = self.page.context.new_cdp_session(self.page)
        self._session.send("WebAuthn.enable", {"enableUI": False})
        answer = self._session.send(
            "WebAuthn.addVirtualAuthenticator", {"options": self.options.to_devtools()}
        )
        self._id = answer["authenticatorId"]
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None and not self.page.is_closed():
            self._send("WebAuthn.removeVirtualAuthenticator")
            self._session.detach()
        self._session = None

    def credentials(self) -> list[dict[str, Any]]:
        """The credentials the key holds (DevTools' ``Credential`` objects)."""
        return self._send("WebAuthn.getCredentials")["credentials"]

    def override_responses(
        self, *, bogus_signature: bool = False, bad_uv: bool = False, bad_up: bool = False
    ) -> None:
        """Make the key's next answers faulty: a bad signature, or UV/UP flags wrong."""
        self._send(
            "WebAuthn.setResponseOverrideBits",
            isBogusSignature=bogus_signature,
            isBadUV=bad_uv,
            isBadUP=bad_up,
        )

    def simulate_presence(self, automatic: bool) -> None:
        """Touch the key on every request (``True``), or never: requests then wait for ever."""
        self._send("WebAuthn.setAutomaticPresenceSimulation", enabled=automatic)

    def _send(self, method: str, **params: Any) -> dict[str, Any]:
        if self._session is None:
            raise RuntimeError("the virtual authenticator is not attached: use it in a with block")
        return self._session.send(method, {"authenticatorId": self._id, **params})
