"""The sessions fuzzed requests come from, each kept in the state its endpoint needs.

A :class:`Requester` holds one account and one HTTP session (a :class:`Seat`) for many generated
requests, because accounts cost mail round-trips. It takes a fresh account when the target
rate-limits this one (a 429 is a correct answer, but the fuzz must go on reaching the
validation behind the limit), and comes back into its state when an accepted request took it
out (a valid logout, a registration, a password reset).
"""

from __future__ import annotations

import base64
import enum
import hashlib
import json
import os
import secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from packaging.version import Version

from harness.accounts import AccountFactory, TestAccount, password_reset_link
from harness.client import IndexClient, warehouse_credential
from harness.errors import ContractMismatch
from harness.mail import Mailbox, token_in
from harness.mail import verification_link as mailed_verification_link
from harness.redaction import Secret
from harness.targets import Profile
from harness.uploads import build_wheel
from virtual_authenticators.kinds import software_key


class State(enum.Enum):
    """The state a requester must be in for an endpoint to get past its first check."""

    LOGGED_OUT = "logged out"
    PENDING_SECOND_FACTOR = "pending second factor"
    LOGGED_IN = "logged in"
    REAUTHENTICATED = "logged in and recently re-authenticated"


class Holder(enum.Enum):
    """What the requester's account has."""

    NEW = "an unverified email"
    VERIFIED = "a verified email"
    READY = "what its first 2FA method needs"
    RECOVERY_CODES = "recovery codes"
    TOTP = "a TOTP app"
    SECURITY_KEY = "a security key"
    KEY_AND_RECOVERY_CODES = "a security key and recovery codes"


TRAITS: dict[Holder, Callable[[], dict[str, Any]]] = {
    Holder.NEW: lambda: {"verified": False},
    Holder.VERIFIED: dict,
    Holder.READY: lambda: {"two_factor_ready": True},
    # The TOTP app is added by the requester itself (see turn_on_totp).
    Holder.TOTP: lambda: {"two_factor_ready": True},
    Holder.RECOVERY_CODES: lambda: {"recovery_codes": True},
    Holder.SECURITY_KEY: lambda: {"security_key": software_key("soft")},
    Holder.KEY_AND_RECOVERY_CODES: lambda: {
        "security_key": software_key("soft"),
        "recovery_codes": True,
    },
}
"""The ``make_account`` traits of each holder."""


@dataclass
class Seat:
    """One account and one HTTP session in a requester's state.

    :param known: what :class:`~scenarios.security.inputs.Known` values stand for: the hidden
        fields of the page's form, ``username``, ``email``, ``pending_token``…
    """

    account: TestAccount
    client: IndexClient = field(repr=False)
    arrived: float = field(default_factory=time.monotonic)
    # Out of the repr, which a failure's traceback shows: it holds the session's tokens.
    known: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class Setup:
    """What requesters are made with: the plugin's factories, the mailbox and the profile."""

    make_account: Callable[..., TestAccount]
    make_client: Callable[[], IndexClient]
    mailbox: Mailbox
    profile: Profile


Need = Callable[[Setup, Seat], None]
"""Something a seat needs before its page opens: a mailed link, a signed credential, age."""


@dataclass(frozen=True)
class Standing:
    """Where a requester stands.

    :param state: its login state.
    :param holder: what its account has.
    :param page: the page whose form the fuzzed requests stand in for (``str.format``-ted with
        the known values, e.g. ``/account/two-factor/?{pending_token}``); its hidden fields,
        the CSRF token among them, become known values.
    :param form: the selector of that form.
    :param needs: what the seat needs before the page opens, in order.
    :param spares: seats to bring into the state at once, so that they age together when a
        need waits for the session to age.
    :param keep_account: come back into the state with the same account (else a new one) when
        an accepted request took the requester out of it.
    :param expires: the :class:`~harness.targets.Ages` field of the seat's token: the seat is
        renewed when half of that age has passed.
    """

    state: State
    holder: Holder
    page: str | None = None
    form: str = "form"
    needs: tuple[Need, ...] = ()
    spares: int = 0
    keep_account: bool = True
    expires: str | None = None


class Requester:
    """The seat fuzzed requests to one endpoint come from, renewed as needed."""

    def __init__(self, setup: Setup, standing: Standing) -> None:
        self.setup = setup
        self.standing = standing
        self.renewable = True
        """False once a fresh account was rate-limited too: the limit is not per account."""
        self._seat: Seat | None = None
        self._spares: list[Seat] = []

    @property
    def seat(self) -> Seat:
        """The current seat, renewed first when its token is about to expire."""
        if self._seat is None:
            self._spares = [self._arrive() for _ in range(self.standing.spares + 1)]
            return self.replace()
        if self.standing.expires is not None:
            max_age = getattr(self.setup.profile.ages, self.standing.expires) / 2
            if time.monotonic() - self._seat.arrived > max_age:
                return self.come_back()
        return self._seat

    def replace(self) -> Seat:
        """A seat with another account (a spare when there is one)."""
        self._seat = self._settle(self._spares.pop(0) if self._spares else self._arrive())
        return self._seat

    def come_back(self) -> Seat:
        """Into the state again, after an accepted request took the seat out of it."""
        if not self.standing.keep_account or self._seat is None:
            return self.replace()
        self._seat = self._settle(self._arrive(self._seat.account))
        return self._seat

    def _arrive(self, account: TestAccount | None = None) -> Seat:
        """A new session of ``account`` (else of a new account) in the standing's state."""
        if account is None:
            account = self.setup.make_account(**TRAITS[self.standing.holder]())
            if self.standing.holder is Holder.TOTP:
                turn_on_totp(self.setup.make_client(), account)
        seat = Seat(account, self.setup.make_client())
        seat.known.update(username=account.username, email=account.email)
        state = self.standing.state
        if state is State.PENDING_SECOND_FACTOR:
            url = seat.client.password_step(account.username, account.password)
            seat.known["pending_token"] = Secret(urlsplit(url).query)
        elif state in (State.LOGGED_IN, State.REAUTHENTICATED):
            log_in(seat.client, account)
        return seat

    def _settle(self, seat: Seat) -> Seat:
        """Meet the seat's needs, then read the hidden fields of its page's form."""
        for need in self.standing.needs:
            need(self.setup, seat)
        if self.standing.page is None:
            return seat
        path = self.standing.page.format(**seat.known)
        page = (
            seat.client.open_sensitive(path, seat.account.password)
            if self.standing.state is State.REAUTHENTICATED
            else seat.client.get(path)
        )
        if page.status != 200:
            raise ContractMismatch(f"{urlsplit(path).path} answered {page.status}, not its form")
        seat.known.update(page.form_fields(self.standing.form)[1])
        return seat


def log_in(client: IndexClient, account: TestAccount) -> None:
    """Log ``account`` in on ``client`` with both steps, whatever second factor it has.

    :raises ContractMismatch: the login did not complete.
    """
    if account.security_key is not None:
        answer = client.log_in_with_key(account.username, account.password, account.security_key)
        done = answer.succeeded
    elif account.totp is not None:
        code = account.totp.current()
        done = client.log_in_with_totp(account.username, account.password, code).status == 303
    else:
        done = client.login(account.username, account.password).status == 303
    if not done:
        raise ContractMismatch(f"logging in {account.username} for the fuzz failed")


def turn_on_totp(client: IndexClient, account: TestAccount) -> None:
    """Set up a TOTP app for ``account`` (ready for it) on a fresh ``client``.

    Unlike ``make_account(totp=True)`` it does not wait for a fresh time step: provisioning
    accepts a step of drift, and no fuzzed request depends on which code is current, so each
    of the several TOTP accounts a rate-limited endpoint goes through costs no wait.
    """
    log_in(client, account)
    account.totp = AccountFactory.enable_totp(client, account, fresh_step=False)


def reset_link(setup: Setup, seat: Seat) -> None:
    """``reset_token``: the token of a password-reset link mailed to the account."""
    link = password_reset_link(seat.client, setup.mailbox, seat.account)
    seat.known["reset_token"] = token_in(link)


def verification_link(setup: Setup, seat: Seat) -> None:
    """``verify_token``: the token of the link that verifies the (new) account's email."""
    link = mailed_verification_link(setup.mailbox, seat.account.email)
    seat.known["verify_token"] = token_in(link)


def _challenge_never_issued() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode("ascii")


def assertion(setup: Setup, seat: Seat) -> None:
    """``credential``: an assertion by the account's key, signed for a challenge the target
    never issued, so that no edit of it can complete the login."""
    key = seat.account.security_key
    assert key is not None, "the assertion need is for accounts with a security key"
    url = f"/account/two-factor/?{seat.known['pending_token']}"
    options = seat.client.webauthn_authenticate_options(url).body
    signed = key.get({**options, "challenge": _challenge_never_issued()}, seat.client.origin)
    seat.known["credential"] = json.loads(warehouse_credential(signed))


def registration(setup: Setup, seat: Seat) -> None:
    """``credential``: a new key's registration, for a challenge the target never issued."""
    options = seat.client.creation_options()
    created = software_key("soft").create(
        {**options, "challenge": _challenge_never_issued()}, seat.client.origin
    )
    seat.known["credential"] = json.loads(warehouse_credential(created))


def stale_for_recovery_codes(setup: Setup, seat: Seat) -> None:
    """Wait until the seat's login is older than the recovery codes' re-authentication age,
    so that the recovery-code pages show the re-authentication form (with its hidden fields)."""
    age = setup.profile.ages.reauthenticate_recovery_codes
    if age > 60:
        pytest.skip(f"the target asks to re-authenticate only after {age} s, too long to wait")
    time.sleep(max(0.0, seat.arrived + age + 1 - time.monotonic()))


UPLOAD = "/legacy/"
FIRST_VERSION = "1.0"


def wheel(name: str, version: str) -> tuple[str, bytes]:
    """The file name and bytes of a minimal wheel of project ``name`` at ``version``."""
    with tempfile.TemporaryDirectory() as folder:
        path = build_wheel(Path(folder), name, version)
        return path.name, path.read_bytes()


def upload(client: IndexClient, token: str, name: str, version: str) -> None:
    """Upload a wheel of ``name`` at ``version`` with the API ``token``, posting what twine
    posts (one multipart request: quicker than running twine).

    :raises ContractMismatch: the upload was refused.
    """
    filename, data = wheel(name, version)
    fields = {
        ":action": "file_upload",
        "protocol_version": "1",
        "metadata_version": "2.1",
        "name": name,
        "version": version,
        "filetype": "bdist_wheel",
        "pyversion": "py3",
        "summary": "A probe package uploaded by the conformance harness.",
        "md5_digest": hashlib.md5(data).hexdigest(),
        "sha256_digest": hashlib.sha256(data).hexdigest(),
    }
    answer = client.request(
        "POST",
        UPLOAD,
        data=fields,
        files={"content": (filename, data, "application/octet-stream")},
        auth=("__token__", token),
    )
    if answer.status_code != 200:
        raise ContractMismatch(f"uploading {filename} for the fuzz answered {answer.status_code}")


def new_project_name() -> str:
    return "fuzz" + secrets.token_hex(5)


def owned_project(setup: Setup, seat: Seat) -> None:
    """``project`` (release ``version``) owned by the (logged-in) seat's account, uploaded with
    ``token``, an API token for the whole account, named ``token_description``; ``password``."""
    description = "fuzz " + secrets.token_hex(4)
    password = seat.account.password
    token = seat.client.create_api_token(description, password)
    seat.known.update(token=token, token_description=description, password=password)
    new_project(seat)


def new_project(seat: Seat) -> None:
    """Another ``project`` of the seat's account, release ``version``, in place of a deleted
    one."""
    name = new_project_name()
    upload(seat.client, seat.known["token"], name, FIRST_VERSION)
    seat.known.update(project=name, version=FIRST_VERSION)


def new_release(seat: Seat) -> None:
    """Another ``version`` of the seat's ``project``, in place of a deleted one."""
    version = f"{Version(seat.known['version']).major + 1}.0"
    upload(seat.client, seat.known["token"], seat.known["project"], version)
    seat.known["version"] = version


def upload_secrets(setup: Setup, seat: Seat) -> None:
    """What uploads from a (logged-out) seat are made of, set up from another session:

    ``project``, the account's project; ``token``, a valid API token for the whole account;
    ``scoped_token``, a token for another of its projects only; ``removed_token``, a token
    removed at once; ``password``; ``wheel``, the bytes of a wheel.
    """
    client = setup.make_client()
    log_in(client, seat.account)
    password = seat.account.password
    token = client.create_api_token("fuzz uploads", password)
    project, other = new_project_name(), new_project_name()
    upload(client, token, project, FIRST_VERSION)
    upload(client, token, other, FIRST_VERSION)
    scoped = client.create_api_token("fuzz scoped", password, scope=f"scope:project:{other}")
    removed = client.create_api_token("fuzz removed", password)
    # Not checked here: a removed token that still works is what the fuzz is to find.
    client.remove_api_token("fuzz removed", password)
    seat.known.update(
        project=project,
        token=token,
        scoped_token=scoped,
        removed_token=removed,
        password=password,
        wheel=wheel(project, "2.0")[1],
    )
