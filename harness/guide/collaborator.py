"""The second account of the remove-collaborator journey: invited to the guide's test project,
it accepts the mailed invitation, so that there is a collaborator for the tester to remove.

In the sandbox the guide makes it on the bundled server (registered, email verified, an
authenticator app set up), once, when the journey first needs it, and reads its mail from the
server's sink. On a ``--base-url`` target the guide cannot make accounts: the collaborator is a
second account of the tester's, named by :data:`USERNAME` and :data:`PASSWORD` (and
:data:`TOTP_SECRET` when it has an authenticator app), whose invitation is read from the IMAP
mailbox of ``HARNESS_IMAP_URL``/``HARNESS_MAIL_ADDRESS`` (see :mod:`harness.imap`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from harness.accounts import AccountFactory, TestAccount
from harness.client import IndexClient
from harness.errors import ContractMismatch, HarnessError, TargetError
from harness.imap import ADDRESS_VARIABLE, URL_VARIABLE, ImapMailbox, mailbox_from_environment
from harness.mail import link_in
from harness.redaction import Secret
from harness.staging import TesterCredentials, log_in
from harness.targets import Target

USERNAME = "HARNESS_COLLABORATOR_USERNAME"
PASSWORD = "HARNESS_COLLABORATOR_PASSWORD"
TOTP_SECRET = "HARNESS_COLLABORATOR_TOTP_SECRET"
NEEDED = (
    f"removing a collaborator on a --base-url target needs a second account of yours: set"
    f" {USERNAME} and {PASSWORD} (and {TOTP_SECRET} if it has an authenticator app), and"
    f" {URL_VARIABLE} and {ADDRESS_VARIABLE} for the mailbox its invitation goes to"
)
"""What to set for the journey on a ``--base-url`` target, one line."""

INVITATION_LINK = "/account/verify-project-role/"
ACCEPT_FORM = "form#accept-role-form"
STAGING_MAIL_SECONDS = 120.0
"""How long a real mailbox is given to receive the invitation."""


class Collaborator(Protocol):
    """A second account that can be invited to a project and accept."""

    def username(self) -> str:
        """Its username, to invite.

        :raises HarnessError: the account cannot be had (the sandbox could not make it).
        """
        ...

    def accept(self, project: str) -> None:
        """Accept the invitation to ``project`` mailed to it.

        :raises HarnessError: no invitation came, or accepting it was refused.
        """
        ...


class SandboxCollaborator:
    """A collaborator account the guide makes on the bundled server ``target``."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self._account: TestAccount | None = None
        self._client: IndexClient | None = None

    def username(self) -> str:
        return self._made()[0].username

    def accept(self, project: str) -> None:
        account, client = self._made()
        if self.target.mailbox is None:
            raise TargetError("the sandbox has no mailbox to read the invitation from")
        mail = self.target.mailbox.wait_for(account.email, f"Invitation to join {project}")
        _accept(client, link_in(mail, INVITATION_LINK))

    def _made(self) -> tuple[TestAccount, IndexClient]:
        if self._account is None or self._client is None:
            account = AccountFactory(self.target).create(totp=True)
            assert account.totp is not None
            client = self.target.client()
            client.log_in_with_totp(account.username, account.password, account.totp.current())
            self._account, self._client = account, client
        return self._account, self._client


class StagingCollaborator:
    """The tester's second account on the ``--base-url`` target at ``base_url``."""

    def __init__(self, base_url: str, credentials: TesterCredentials, mailbox: ImapMailbox) -> None:
        self.base_url = base_url
        self.credentials = credentials
        self.mailbox = mailbox

    def username(self) -> str:
        return self.credentials.username

    def accept(self, project: str) -> None:
        client = IndexClient(self.base_url)
        log_in(client, self.credentials)
        primary = client.get("/manage/account/").select(
            "#account-emails tr[data-email]:has(.email-primary)"
        )
        if not primary:
            raise ContractMismatch(f"/manage/account/ of {self.username()} shows no primary email")
        address = str(primary[0]["data-email"])
        subject = f"Invitation to join {project}"
        mail = self.mailbox.wait_for(address, subject, timeout=STAGING_MAIL_SECONDS)
        _accept(client, link_in(mail, INVITATION_LINK))


def collaborator_from_environment(
    base_url: str, environ: Mapping[str, str]
) -> StagingCollaborator | None:
    """The tester's second account on ``base_url``, from :data:`USERNAME`, :data:`PASSWORD`,
    :data:`TOTP_SECRET` and the IMAP mailbox's variables; None when any of the username,
    password and mailbox is not given.

    :raises HarnessError: the mailbox's variables are malformed (one line, no secret in it).
    """
    username, password = environ.get(USERNAME, "").strip(), environ.get(PASSWORD, "")
    mailbox = mailbox_from_environment(environ)
    if not (username and password and mailbox):
        return None
    # Apps show seeds in groups of four, sometimes lower case: taken as typed.
    seed = "".join(environ.get(TOTP_SECRET, "").split()).upper().rstrip("=")
    credentials = TesterCredentials(username, Secret(password), Secret(seed) if seed else None)
    return StagingCollaborator(base_url, credentials, mailbox)


def _accept(client: IndexClient, link: str) -> None:
    answer = client.submit(link, ACCEPT_FORM, accept="1")
    if answer.status != 303:
        raise HarnessError(f"accepting the invitation answered {answer.status}, not 303")
