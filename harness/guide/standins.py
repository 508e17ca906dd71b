"""Software stand-ins for the person, so that CI can run a whole guided session: an
authenticator app set up from the provisioning page as scanning its QR code would, Chromium's
virtual security key touching itself, and a note of the recovery codes the page showed.

What they hold (the app's seed, the key's credential, the codes) is kept in the session's
:class:`~harness.guide.vault.Vault` as soon as it changes, so a stopped session resumes with
the same app, key and codes; none of it ever goes to the report folder.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page

from harness.guide.vault import Vault
from harness.pages import TotpProvisionPage, TwoFactorPage
from harness.redaction import Secret
from virtual_authenticators.cdp import CdpAuthenticator
from virtual_authenticators.totp import TotpApp

TOTP_SEED = "totp-seed"
TOTP_LAST_STEP = "totp-last-step"
KEY_CREDENTIALS = "key-credentials"
RECOVERY_CODES = "recovery-codes"
USED_CODES = "recovery-codes-used"

STAND_IN_KEY = "the guide's virtual security key"
"""How the stand-in key is named in messages."""


class RestorableKey(CdpAuthenticator):
    """Chromium's virtual key, with the credentials of an earlier run put back into it."""

    def add_credential(self, credential: dict[str, Any]) -> None:
        """Put ``credential`` (as :meth:`credentials` gave it) into the key."""
        self._send("WebAuthn.addCredential", credential=credential)


class StandIns:
    """The person's phone app, key and notes, in software, for one page.

    Use as a context manager: the virtual key is added to ``page``'s browser on entry (with
    the credentials the vault holds) and removed on exit.

    :param vault: the session's vault.
    :param page: a Chromium page (the virtual key needs DevTools' WebAuthn domain).
    :param sleep: waits for the next TOTP time step, as a person would.
    """

    def __init__(
        self, vault: Vault, page: Page, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.vault = vault
        self.page = page
        self.sleep = sleep
        self.key = RestorableKey(page)

    def __enter__(self) -> StandIns:
        self.key.__enter__()
        for credential in self._document(KEY_CREDENTIALS):
            Secret(credential["privateKey"])
            self.key.add_credential(credential)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.key.__exit__(None, None, None)

    def scan(self, provisioning: TotpProvisionPage) -> None:
        """Set the app up from the QR code's ``otpauth://`` URI, as scanning it does."""
        app = TotpApp.from_uri(provisioning.otpauth_uri())
        self.vault.put(TOTP_SEED, Secret(app.secret))

    def has_app(self) -> bool:
        """The app was set up (in this run or an earlier one)."""
        return self.vault.get(TOTP_SEED) is not None

    def totp_code(self, *, logs_in: bool = True) -> str:
        """The code the app shows, waiting first for a time step with a few seconds left in it
        and, for a login, one the index has not yet seen a login code of (it refuses a code
        used twice to log in; confirming the set-up does not use the code up)."""
        seed = self.vault.get(TOTP_SEED)
        if seed is None:
            raise LookupError("the stand-in app was never set up: scan the QR code first")
        app = TotpApp(seed)
        last = int(self.vault.get(TOTP_LAST_STEP) or -1)
        if app.step() <= last:
            self.sleep(app.seconds_left_in_step() + 0.05)
        app.wait_for_fresh_step(at_least=3.0, sleep=self.sleep)
        if logs_in:
            self.vault.put(TOTP_LAST_STEP, str(app.step()))
        # Not a Secret: a 6-digit value would be masked wherever those digits appear in the
        # state (a step's seconds), and the code is useless once its step has passed.
        return app.current()

    def has_key(self) -> bool:
        """The virtual key holds a credential."""
        return bool(self.key.credentials())

    def keep_key(self) -> None:
        """Keep the key's credentials (with their signature counters) in the vault."""
        self.vault.put(KEY_CREDENTIALS, json.dumps(self.key.credentials()))

    def note_codes(self, codes: list[str]) -> None:
        """Note the recovery codes the page shows, replacing an older set."""
        self.vault.put(RECOVERY_CODES, json.dumps([str.__str__(code) for code in codes]))
        self.vault.put(USED_CODES, "[]")

    def unused_code(self) -> str:
        """A noted recovery code not used yet, crossed off now.

        :raises LookupError: none is left.
        """
        codes = [Secret(code) for code in self._document(RECOVERY_CODES)]
        used = self._document(USED_CODES)
        code = next((c for c in codes if c not in used), None)
        if code is None:
            raise LookupError("the stand-in has no unused recovery code noted")
        self.vault.put(USED_CODES, json.dumps([*used, str.__str__(code)]))
        return Secret(code)

    def used_code(self) -> str | None:
        """The recovery code used last, or None."""
        used = self._document(USED_CODES)
        return Secret(used[-1]) if used else None

    def _document(self, name: str) -> list[Any]:
        found = self.vault.get_document(name)
        return found if isinstance(found, list) else []

    def second_factor(self, two_factor: TwoFactorPage) -> None:
        """Answer the login's second step: with the key when it holds a credential (it never
        runs into the index's refusal of a reused TOTP code), else with the app."""
        if self.has_key():
            two_factor.use_security_key(STAND_IN_KEY)
            self.keep_key()
        else:
            two_factor.submit_totp(self.totp_code())
