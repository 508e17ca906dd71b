"""The tester's account as the guide sees it outside the journeys: its state (read before the
first journey, so that "ends as it started" can be checked), and undoing what the guide set up
(:class:`GuideUndoer`, the :class:`~harness.guide.session.Undoer` of a real session).

Both go through :mod:`harness.staging`'s readers and removal forms on an HTTP client that
shares the browser's login: the browser's cookies are copied into the client, and the
client's back into the browser afterwards (a re-authentication may renew them), so the person
is never asked for a second factor just to read or tidy the account.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from playwright.sync_api import Page

from harness.client import IndexClient
from harness.guide.journeys import AccountChange, ChangeKind
from harness.redaction import Secret
from harness.staging import (
    AccountState,
    read_account_state,
    remove_key,
    remove_totp,
)


@dataclass(frozen=True)
class GuideAccount:
    """The account the guide drives: the tester's own, or the one it made on the bundled
    server. The repr names only the username."""

    username: str
    password: Secret


class BrowserAccount:
    """The account logged in on ``page``, read and changed over HTTP with the browser's login.

    :param base_url: the target's root URL, the browser context's ``base_url``.
    """

    def __init__(
        self,
        page: Page,
        base_url: str,
        account: GuideAccount,
        *,
        webauthn_encoding: str = "base64url",
    ) -> None:
        self.page = page
        self.base_url = base_url.rstrip("/")
        self.account = account
        self.webauthn_encoding = webauthn_encoding

    @contextmanager
    def client(self) -> Iterator[IndexClient]:
        """An HTTP client logged in as the browser is, for the ``with`` block."""
        client = IndexClient(self.base_url, webauthn_encoding=self.webauthn_encoding)
        host = urlsplit(self.base_url).hostname or ""
        # The domain the cookie jar files the target's own cookies under (it names a host
        # without a dot "<host>.local"), so that a cookie the target renews replaces this one.
        domain = host if "." in host else f"{host}.local"
        for cookie in self.page.context.cookies(self.base_url):
            client.http.cookies.set(
                cookie["name"], cookie["value"], domain=domain, path=cookie["path"]
            )
        try:
            yield client
        finally:
            self.page.context.add_cookies(
                [
                    {"name": c.name, "value": c.value or "", "url": self.base_url}
                    for c in client.http.cookies
                ]
            )

    def state(self) -> AccountState:
        """The account's state now.

        Its API tokens and projects are left empty: no journey the guide offers touches them,
        and the index keeps both from an account without 2FA.

        :raises ContractMismatch: a management page did not open (the browser is logged out).
        """
        with self.client() as client:
            return self.read(client)

    def read(self, client: IndexClient) -> AccountState:
        """The account's state, read on ``client`` (one of :meth:`client`), as :meth:`state`."""
        return read_account_state(client, self.account.password, api_tokens=False, projects=False)


class GuideUndoer:
    """Removes what the guide set up, through the account's own removal forms; each removal
    is checked by reading the account again.

    Recovery codes cannot be un-generated (the old set stopped working when the new one was
    made), and projects and collaborators, which no journey the guide offers makes, are left
    to the project's pages: each is said so.
    """

    def __init__(self, account: BrowserAccount) -> None:
        self.account = account

    def undo(self, change: AccountChange) -> str | None:
        """Remove ``change``; None when it is gone, else why it is not, in one line."""
        password = self.account.account.password
        if change.kind is ChangeKind.RECOVERY_CODES:
            return (
                "recovery codes cannot be un-generated: keep the newest set the guide showed"
                " (the older ones no longer work)"
            )
        if change.kind in (ChangeKind.COLLABORATOR, ChangeKind.PROJECT):
            # No journey the guide offers makes either.
            return f"the guide does not remove a {change.kind.value}: do it on the project's page"
        with self.account.client() as client:
            if not _present(self.account.read(client), change):
                return None
            if change.kind is ChangeKind.TOTP:
                said = remove_totp(client, password)
            else:
                said = remove_key(client, change.name, password)
            still = _present(self.account.read(client), change)
        return f"the index said: {said}" if still else None


def _present(state: AccountState, change: AccountChange) -> bool:
    if change.kind is ChangeKind.TOTP:
        return state.totp
    return change.name in state.security_keys
