"""The bundled server as a guided session's sandbox: started for the session, with an account
made for the person, both kept until the session is over so a stopped session resumes on
the same account.

The server's database lives next to the session's vault (it holds the account's TOTP seed
and password hash, so it belongs there and not in the report folder); the account's username
and password are kept in the vault, since this account is the guide's, not the person's, and
a resumed run must log in to it again.

The sandbox's server lets the last second-factor method go (its ``last-2fa-method`` check is
off): its account starts with none, and under the current policy it could otherwise never be
handed back as it started when the person asks to undo. No journey removes the last method,
so none of them sees the difference.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from harness.accounts import AccountFactory
from harness.guide.account import GuideAccount
from harness.guide.prompts import Prompts
from harness.guide.vault import Vault
from harness.redaction import Secret
from harness.targets import BundledServer, Profile, Target

USERNAME = "sandbox-username"
PASSWORD = "sandbox-password"
PROFILE = "reference"
UNDO_NEEDS = ("last-2fa-method",)
"""The server's checks turned off in the sandbox (see the module's docstring)."""
DESCRIPTION = "the bundled reference server (localhost), profile reference"


@dataclass(frozen=True)
class Sandbox:
    """A running sandbox: the server as a target, and the person's account on it."""

    target: Target
    account: GuideAccount


def server_folder(vault: Vault) -> Path:
    """Where the sandbox server of ``vault``'s session keeps its database and log."""
    return vault.folder / f"{vault.path.stem}-server"


@contextmanager
def sandbox(vault: Vault, prompts: Prompts) -> Iterator[Sandbox]:
    """Start the session's sandbox server (on its database of an earlier run, if any) and
    make the person's account on it, once: registered and its email verified, with no
    recovery codes yet, as a new account is, so that the person goes through saving them
    before a first second factor as the current policy asks. A new account's username and
    password are told to the person on the terminal, never written to the report.

    :raises TargetError: the server does not start.
    """
    workdir = server_folder(vault)
    # The vault's folder is private (0700): make it so before the server's folder goes in it.
    vault.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    profile = Profile.load(PROFILE).for_bundled_server()
    with BundledServer(profile, workdir, disabled_checks=UNDO_NEEDS) as server:
        assert server.target is not None
        username, password = vault.get(USERNAME), vault.get(PASSWORD)
        if username is None or password is None:
            made = AccountFactory(server.target).create(verified=True)
            username, password = made.username, Secret(made.password)
            vault.put(USERNAME, username)
            vault.put(PASSWORD, password)
            prompts.say(
                f"A test account was made for you on the bundled server: username {username},"
                f" password {password}. Note them if you want to log in yourself."
            )
        yield Sandbox(server.target, GuideAccount(username, Secret(password)))


def remove(vault: Vault) -> None:
    """Remove the sandbox's server folder (once the server has stopped and the session is
    over)."""
    shutil.rmtree(server_folder(vault), ignore_errors=True)
