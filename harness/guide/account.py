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
from urllib.parse import quote, urlsplit

from bs4 import Tag
from playwright.sync_api import Page

from harness.client import HtmlPage, IndexClient
from harness.guide.journeys import AccountChange, ChangeKind
from harness.redaction import Secret
from harness.staging import (
    AccountState,
    delete_project,
    read_account_state,
    remove_key,
    remove_totp,
)

COLLABORATORS = "#collaborators li[data-username]"
"""A project's collaborators on its collaboration page, each with their ``data-username``."""


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
            self.page.context.add_cookies(client.browser_cookies())

    def state(self) -> AccountState:
        """The account's state now.

        Its API tokens are left empty: the guide removes the one token it makes (for an
        upload) in the same step. Its projects are read when the account has a second factor,
        and left empty otherwise: the index hides them from an account without 2FA, and
        none can have been made without it.

        :raises ContractMismatch: a management page did not open (the browser is logged out).
        """
        with self.client() as client:
            return self.read(client)

    def read(self, client: IndexClient) -> AccountState:
        """The account's state, read on ``client`` (one of :meth:`client`), as :meth:`state`."""
        password = self.account.password
        state = read_account_state(client, password, api_tokens=False, projects=False)
        if not (state.totp or state.security_keys):
            return state
        return read_account_state(client, password, api_tokens=False, projects=True)


class GuideUndoer:
    """Removes what the guide set up, through the account's own removal forms; each removal
    is checked by reading the account again.

    Recovery codes cannot be un-generated (a set made where there was none stays, and an older
    set stopped working when the new one was made): that is said so. A test project is
    deleted (its releases, invitations and collaborators with it); a collaborator left on one
    is removed from it first, as the journey would have, typing their username.
    """

    def __init__(self, account: BrowserAccount) -> None:
        self.account = account

    def undo(self, change: AccountChange) -> str | None:
        """Remove ``change``; None when it is gone, else why it is not, in one line."""
        password = self.account.account.password
        if change.kind is ChangeKind.RECOVERY_CODES:
            return (
                "recovery codes cannot be un-generated: keep the newest set the guide showed"
                " (any older set no longer works)"
            )
        with self.account.client() as client:
            if change.kind in (ChangeKind.PROJECT, ChangeKind.COLLABORATOR):
                if not _on_project(client, change, password):
                    return None
                if change.kind is ChangeKind.PROJECT:
                    said = delete_project(client, change.name, password)
                else:
                    said = _remove_collaborator(client, change, password)
                still = _on_project(client, change, password)
                return f"the index said: {said}" if still else None
            if not _present(self.account.read(client), change):
                return None
            if change.kind is ChangeKind.TOTP:
                said = remove_totp(client, password)
            else:
                said = remove_key(client, change.name, password)
            still = _present(self.account.read(client), change)
        return f"the index said: {said}" if still else None


def _collaboration(client: IndexClient, project: str, password: str) -> HtmlPage:
    return client.open_sensitive(f"/manage/project/{quote(project)}/collaboration/", password)


def _collaborator_item(page: HtmlPage, username: str) -> Tag | None:
    return next((i for i in page.select(COLLABORATORS) if i["data-username"] == username), None)


def _on_project(client: IndexClient, change: AccountChange, password: str) -> bool:
    """Whether the test project ``change`` names is still there or, for a collaborator, still
    lists them; a project the account has no role on (gone) answers 404."""
    page = _collaboration(client, change.project or change.name, password)
    if page.status == 404:
        return False
    return change.kind is ChangeKind.PROJECT or _collaborator_item(page, change.name) is not None


def _remove_collaborator(client: IndexClient, change: AccountChange, password: str) -> str:
    """Remove the collaborator ``change`` names from its project, typing their username; how
    the index answered."""
    page = _collaboration(client, change.project, password)
    item = _collaborator_item(page, change.name)
    form = item.select_one("form.delete-role-form") if item else None
    if form is None:
        return f"the collaborators page answered {page.status} without a form removing them"
    action, fields = page.submission(form)
    answer = client.post(action, {**fields, "confirm_username": change.name})
    return f"removing them answered {answer.status}"


def _present(state: AccountState, change: AccountChange) -> bool:
    if change.kind is ChangeKind.TOTP:
        return state.totp
    return change.name in state.security_keys
