"""Test accounts, made on the target through its own pages: register, verify, add 2FA.

Scenarios never touch the server's database; every account is made over HTTP as a person
would make it, so the same factory works against any target that allows registration and whose
mail the harness can read.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from harness.client import HtmlPage, IndexClient
from harness.errors import ContractMismatch, TargetError
from harness.mail import RESET_PASSWORD_PATH, Mailbox, link_in, verification_link
from harness.redaction import Secret
from harness.targets import Target
from virtual_authenticators.base import Authenticator
from virtual_authenticators.totp import TotpApp


@dataclass
class TestAccount:
    """An account on the target and the secrets its owner holds.

    The repr names only the username, so secrets never reach a report through an assertion.
    """

    __test__ = False  # not a test class, whatever pytest thinks of its name

    username: str
    email: str
    password: str = field(repr=False)
    totp: TotpApp | None = field(default=None, repr=False)
    security_key: Authenticator | None = field(default=None, repr=False)
    recovery_codes: list[str] = field(default_factory=list, repr=False)
    used_recovery_codes: set[str] = field(default_factory=set, repr=False)

    def unused_recovery_code(self) -> str:
        """A recovery code not yet used, marked used now."""
        code = next(c for c in self.recovery_codes if c not in self.used_recovery_codes)
        self.used_recovery_codes.add(code)
        return Secret(code)


class AccountFactory:
    """Makes fresh accounts on ``target`` with the traits a scenario asks for."""

    def __init__(self, target: Target) -> None:
        self.target = target

    def create(
        self,
        *,
        verified: bool = True,
        recovery_codes: bool = False,
        totp: bool = False,
        security_key: Authenticator | None = None,
        two_factor_ready: bool = False,
    ) -> TestAccount:
        """Register a new account and set it up.

        :param verified: follow the emailed verification link.
        :param recovery_codes: generate recovery codes (and keep them on the account).
        :param totp: set up a TOTP app; implies ``verified``, and recovery codes with one burned
            when the target's profile asks for them before the first 2FA method.
        :param security_key: enrol this authenticator as the key labelled "key 1", with the
            same prerequisites as ``totp``.
        :param two_factor_ready: meet those prerequisites without adding a method, so that the
            scenario can add the first one itself.
        :raises TargetError: the target lacks a mailbox the harness can read.
        :raises ContractMismatch: a step did not answer as the contract says.
        """
        two_factor = totp or security_key is not None or two_factor_ready
        if (verified or two_factor) and self.target.mailbox is None:
            raise TargetError("verifying a new account's email needs the target's mailbox")
        name = "t" + secrets.token_hex(6)
        account = TestAccount(
            username=name,
            email=(
                self.target.mailbox.address_for(name)
                if self.target.mailbox is not None
                else f"{name}@example.com"
            ),
            password=Secret(secrets.token_urlsafe(18)),
        )
        client = self.target.client()
        _expect_redirect(
            client.register(account.username, account.email, account.password), "registration"
        )
        if verified or two_factor:
            self.verify_email(client, account)
        codes_first = two_factor and self.target.profile.recovery_codes_before_first_method
        if recovery_codes or codes_first:
            account.recovery_codes = [
                Secret(code) for code in client.generate_recovery_codes(account.password)
            ]
        if codes_first:
            _expect_redirect(
                client.burn_recovery_code(account.unused_recovery_code()), "burning a recovery code"
            )
        if totp:
            account.totp = self.enable_totp(client, account)
        if security_key is not None:
            answer = client.enrol_security_key(security_key, "key 1", account.password)
            if not answer.succeeded:
                raise ContractMismatch(f"enrolling a security key failed: {answer.errors}")
            account.security_key = security_key
        return account

    def verify_email(self, client: IndexClient, account: TestAccount) -> None:
        """Follow the verification link mailed to ``account`` in ``client``'s session."""
        assert self.target.mailbox is not None
        link = verification_link(self.target.mailbox, account.email)
        _expect_redirect(client.get(link), "email verification")

    @staticmethod
    def enable_totp(
        client: IndexClient, account: TestAccount, *, fresh_step: bool = True
    ) -> TotpApp:
        """Provision a TOTP app for the logged-in ``account`` and confirm it with a code.

        :param fresh_step: wait first, if need be, until seconds are left in the time step, so
            that the code sent is still current when the target checks it. Without the wait it
            may be a step old by then, which provisioning accepts (a step of drift).
        :raises ContractMismatch: provisioning did not answer as the contract says.
        """
        page, uri = client.provision_totp_secret(account.password)
        app = TotpApp.from_uri(uri)
        if fresh_step:
            app.wait_for_fresh_step()
        _expect_redirect(
            client.submit_page(page, "form.totp-form__form", totp_value=app.current()),
            "TOTP provisioning",
        )
        return app


def password_reset_link(client: IndexClient, mailbox: Mailbox, account: TestAccount) -> str:
    """Ask on ``client`` for a password reset of ``account``; the link the index mails for it.

    :raises MailTimeout: no new reset mail reached the account in time.
    :raises LookupError: the mail has no reset link.
    """
    before = mailbox.count(account.email, "Password reset")
    client.request_password_reset(account.username)
    mail = mailbox.wait_for(account.email, "Password reset", after=before)
    return link_in(mail, RESET_PASSWORD_PATH)


def _expect_redirect(page: HtmlPage, step: str) -> None:
    if page.status != 303:
        problems = page.texts("ul.form-errors li, ul[id$=-errors] li") + page.flashes("error")
        raise ContractMismatch(
            f"{step} answered {page.status}, not 303: {'; '.join(problems) or 'no error shown'}"
        )
