"""``harness guide``: a guided beta-test session in a browser, from start (or where a stopped
session left off) to the offer to undo what the guide set up.

The command puts the pieces together: the target (the bundled server as a sandbox with an
account made for the person, or ``--base-url`` with the tester's own account from
``HARNESS_USERNAME``/``HARNESS_PASSWORD``), the second account of the collaborator journey
(made in the sandbox, or given by :mod:`harness.guide.collaborator`'s variables), the prompts
(the terminal, or ``--answers``), the browser and page, the stand-ins of a scripted session,
the browser driver, the session, the undo, and the check that the account ends as it started.

``--destructive`` adds the destructive journeys to a new session's plan; it is refused for the
production index (:func:`harness.safety.destructive_refusal`) before anything is done.

Exit status: 0 the session finished; 3 it was stopped (the same command resumes it); 2 bad
input (an option, the answers file, the report folder's state, missing credentials, a
destructive session on the production index), one line; 1 something broke on the way (the
report is still written).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import TextIO

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, sync_playwright

from harness import browsers
from harness.doctor import check_origin
from harness.errors import HarnessError
from harness.guide import collaborator, sandbox
from harness.guide.account import BrowserAccount, GuideAccount, GuideUndoer
from harness.guide.browser import BrowserDriver
from harness.guide.collaborator import Collaborator, SandboxCollaborator, StagingCollaborator
from harness.guide.html import write_html
from harness.guide.journeys import CATALOGUE, ChangeKind, plan
from harness.guide.prompts import (
    GUIDE,
    GuideStopped,
    Prompts,
    ScriptedPrompts,
    ScriptError,
    TerminalPrompts,
)
from harness.guide.report import write_report
from harness.guide.session import offer_undo, run_session
from harness.guide.standins import StandIns
from harness.guide.state import GuideState, GuideStateError, load, save
from harness.guide.vault import Vault, VaultError, default_folder
from harness.pages import IndexPage, LoginPage, TwoFactorPage
from harness.safety import destructive_refusal
from harness.staging import AccountState, credentials_from_environment

FINISHED, BROKE, BAD_INPUT, STOPPED = 0, 1, 2, 3
BROWSERS = ("chromium", "firefox", "webkit")
DEFAULT_FOLDER = Path("reports") / "guide"


class BadInput(HarnessError):
    """What the tester gave cannot be used; one line saying what to change."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``harness guide``."""
    parser.add_argument(
        "--base-url",
        help="the staging server's URL, logged in as HARNESS_USERNAME/HARNESS_PASSWORD;"
        " default: start the bundled reference server with an account made for you",
    )
    parser.add_argument(
        "--answers",
        type=Path,
        default=None,
        metavar="FILE",
        help="answer every question from this TOML file, software authenticators standing"
        " in for you (for CI); default: ask on the terminal",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_FOLDER,
        metavar="FOLDER",
        help="the report folder; if it holds a stopped session, it is resumed"
        f" (default: {DEFAULT_FOLDER})",
    )
    parser.add_argument("--headless", action="store_true", help="hide the browser (default: shown)")
    parser.add_argument(
        "--browser",
        choices=BROWSERS,
        default="chromium",
        help="the browser to use (default: chromium; --answers needs chromium)",
    )
    parser.add_argument(
        "--destructive",
        action="store_true",
        help="a new session also removes a collaborator and deletes a release and a project,"
        " of test projects the guide makes; on a --base-url target this is your consent,"
        f" and removing a collaborator needs {collaborator.USERNAME} and the others (see the"
        " README); never on the production index",
    )


@dataclass(frozen=True)
class _Target:
    base_url: str
    account: GuideAccount
    webauthn_encoding: str
    collaborator: Collaborator | None


def run(
    args: argparse.Namespace,
    environ: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
) -> int:
    """Run ``harness guide`` as ``args`` say; the exit status (see the module's docstring)."""
    environ = os.environ if environ is None else environ
    stdout = sys.stdout if stdout is None else stdout
    folder: Path = args.out
    try:
        if args.destructive:
            # Passing --destructive with a --base-url is the tester's consent; production
            # is refused whatever they pass.
            refusal = destructive_refusal(args.base_url, allow_destructive=True)
            if refusal is not None:
                raise BadInput(f"--destructive: {refusal}")
        staging_collaborator = None
        if args.base_url:
            _check_credentials(environ)
            staging_collaborator = _staging_collaborator(args, environ)
        prompts = _prompts(args, stdout)
        state = _state(folder, args)
        vault = Vault(state.session, default_folder(environ), folder)
        finished = state.next_journey() is None and vault.get(sandbox.USERNAME) is None
        if args.base_url is None and finished:
            # Its sandbox went with its end: nothing is left to go on with or to undo.
            raise BadInput(f"the session in {folder} is finished: give another --out")
        return _session(args, environ, folder, state, vault, prompts, staging_collaborator)
    except (BadInput, ScriptError, GuideStateError, VaultError) as error:
        print(f"harness guide: error: {error}", file=sys.stderr)
        return BAD_INPUT
    except (GuideStopped, KeyboardInterrupt):
        _write_report(folder)
        print(
            f"harness guide: stopped; run the same command again to go on ({folder})", file=stdout
        )
        return STOPPED
    except (HarnessError, PlaywrightError) as error:
        _write_report(folder)
        line = (str(error).strip().splitlines() or ["no message"])[0]
        print(f"harness guide: error: {line}; the report is in {folder}", file=sys.stderr)
        return BROKE


def _write_report(folder: Path) -> None:
    """Write the report of the session in ``folder`` as it stands, if there is one: a
    session broken or stopped outside the journeys (logging in, the undo) still has one."""
    with contextlib.suppress(HarnessError):
        state = load(folder)
        if state is not None:
            write_report(folder, state)
            write_html(folder, state)


def _check_credentials(environ: Mapping[str, str]) -> None:
    """:raises BadInput: the tester's account is not given, or given wrongly."""
    try:
        given = credentials_from_environment(environ)
    except HarnessError as error:
        raise BadInput(str(error)) from None
    if given is None:
        raise BadInput("--base-url needs your account: set HARNESS_USERNAME and HARNESS_PASSWORD")


def _staging_collaborator(
    args: argparse.Namespace, environ: Mapping[str, str]
) -> StagingCollaborator | None:
    """The tester's second account for removing a collaborator on the --base-url target.

    :raises BadInput: --destructive is asked for and the account or its mailbox is not given
        (the variables' names said), or given wrongly.
    """
    try:
        found = collaborator.collaborator_from_environment(args.base_url.rstrip("/"), environ)
    except HarnessError as error:
        raise BadInput(str(error)) from None
    if found is None and args.destructive:
        raise BadInput(collaborator.NEEDED)
    return found


def _prompts(args: argparse.Namespace, stdout: TextIO) -> Prompts:
    if args.answers is None:
        return TerminalPrompts(stdout=stdout)
    if args.browser != "chromium":
        raise BadInput("--answers needs --browser chromium: its virtual security key stands in")
    return ScriptedPrompts.from_file(args.answers, [j.id for j in CATALOGUE], echo=stdout)


def _state(folder: Path, args: argparse.Namespace) -> GuideState:
    """The stopped session of ``folder``, or a new one saved there."""
    target = args.base_url.rstrip("/") if args.base_url else sandbox.DESCRIPTION
    if args.base_url:
        finding = check_origin(args.base_url)
        if finding.status != "ok":
            raise BadInput(f"{finding.detail}: {finding.fix}")
    state = load(folder)
    if state is not None:
        if state.target != target:
            raise BadInput(
                f"{folder} holds a session of {state.target}, not {target}: give the same"
                " --base-url, or another --out"
            )
        return state
    ids = [journey.id for journey in plan(destructive=args.destructive)]
    state = GuideState.new(target, metadata.version("pypi-2fa-harness"), ids)
    save(folder, state)
    return state


def _session(
    args: argparse.Namespace,
    environ: Mapping[str, str],
    folder: Path,
    state: GuideState,
    vault: Vault,
    prompts: Prompts,
    staging_collaborator: StagingCollaborator | None,
) -> int:
    with ExitStack() as stack:
        target = _target(args, environ, vault, prompts, stack, staging_collaborator)
        page = _page(args, target.base_url, stack)
        stand_ins = None
        if args.answers is not None:
            stand_ins = stack.enter_context(StandIns(vault, page))
        _sign_in(page, target.account, stand_ins, prompts)
        account = BrowserAccount(
            page, target.base_url, target.account, webauthn_encoding=target.webauthn_encoding
        )
        if state.account_before is None:
            state.account_before = account.state()
            save(folder, state)
        driver = BrowserDriver(page, target.account, stand_ins, collaborator=target.collaborator)
        end = run_session(
            folder,
            prompts,
            driver,
            target=state.target,
            harness_version=state.harness_version,
            destructive=args.destructive,
        )
        write_html(folder, end.state)
        if end.stopped:
            # The session has said how to go on, in one line.
            return STOPPED
        offer_undo(folder, end.state, prompts, GuideUndoer(account))
        write_html(folder, end.state)
        codes_made = any(c.kind is ChangeKind.RECOVERY_CODES for c in end.state.changes)
        for line in _differences(end.state.account_before, account.state(), codes_made):
            prompts.say(line)
    # The session is over: what the stand-ins held and the sandbox (the guide's own account,
    # nothing of the person's) are of no more use; what is left on an account is in the report.
    if args.base_url is None:
        sandbox.remove(vault)
    vault.forget()
    return FINISHED


def _target(
    args: argparse.Namespace,
    environ: Mapping[str, str],
    vault: Vault,
    prompts: Prompts,
    stack: ExitStack,
    staging_collaborator: StagingCollaborator | None,
) -> _Target:
    if args.base_url is None:
        started = stack.enter_context(sandbox.sandbox(vault, prompts))
        return _Target(
            started.target.base_url,
            started.account,
            started.target.profile.webauthn_encoding,
            SandboxCollaborator(started.target),
        )
    credentials = credentials_from_environment(environ)
    assert credentials is not None, "run() checked them"
    account = GuideAccount(credentials.username, credentials.password)
    return _Target(args.base_url.rstrip("/"), account, "base64url", staging_collaborator)


def _page(args: argparse.Namespace, base_url: str, stack: ExitStack) -> Page:
    playwright = stack.enter_context(sync_playwright())
    browser_type = getattr(playwright, args.browser)
    extra = browsers.launch_args(browser_type, headless=args.headless)
    browser = browser_type.launch(headless=args.headless, **extra)
    stack.callback(browser.close)
    context = browser.new_context(base_url=base_url)
    return context.new_page()


def _sign_in(
    page: Page, account: GuideAccount, stand_ins: StandIns | None, prompts: Prompts
) -> None:
    """Log the browser in: the password, then the second factor by the stand-ins or the
    person.

    :raises HarnessError: the login did not go through.
    """
    LoginPage(page).password_step(account.username, account.password)
    index = IndexPage(page)
    if index.current_path.startswith(TwoFactorPage.path):
        if stand_ins is not None:
            stand_ins.second_factor(TwoFactorPage(page))
        else:
            prompts.say("Your account asks for a second factor: use it in the browser window.")
            prompts.text(GUIDE, "logged-in", "Press Enter once the browser shows you logged in")
    page.wait_for_load_state()
    if not index.is_logged_in():
        raise HarnessError(
            f"the login of {account.username} did not go through (the browser is on"
            f" {index.current_path}): check the password and second factor"
        )


def _differences(before: AccountState | None, after: AccountState, codes_made: bool) -> list[str]:
    """What differs between the account before the session and now, one line each.

    :param codes_made: the guide made recovery codes, which no undo takes back: they are said
        to stay, even when the account's pages cannot tell the new set from an older one.
    """
    codes = [_codes_stay(before)] if codes_made else []
    if before is not None and codes_made:
        before = replace(before, recovery_codes=after.recovery_codes)
    if before is None or before == after:
        rest = "Apart from its recovery codes, your" if codes_made else "Your"
        return [*codes, f"{rest} account is as it was before the guide started."]
    lines = list(codes)
    if before.totp != after.totp:
        lines.append(f"Authenticator app: {_had(before.totp)} before, {_had(after.totp)} now.")
    for label in sorted(after.security_keys - before.security_keys):
        lines.append(f"Security key '{label}' was not there before.")
    for label in sorted(before.security_keys - after.security_keys):
        lines.append(f"Security key '{label}' was there before and is gone.")
    for name in sorted(after.projects ^ before.projects):
        lines.append(f"Project '{name}' differs from before.")
    if before.recovery_codes != after.recovery_codes:
        lines.append("Recovery codes differ from before.")
    if len(lines) == len(codes):
        lines.append("Your account differs from before in its API tokens.")
    return lines


def _codes_stay(before: AccountState | None) -> str:
    """The line saying that the recovery codes the guide made stay on the account."""
    if before is not None and before.recovery_codes is False:
        return (
            "Recovery codes: your account had none before; the set the guide made stays, since"
            " codes cannot be un-generated. Keep the newest set it showed you."
        )
    return (
        "Recovery codes: the guide made a new set, which stays, since codes cannot be"
        " un-generated; any older set no longer works. Keep the newest set it showed you."
    )


def _had(present: bool) -> str:
    return "set up" if present else "none"
