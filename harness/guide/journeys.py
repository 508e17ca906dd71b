"""The journeys a guided tester goes through, their steps as the tester reads them, and the hook
(:class:`StepDriver`) that performs a step in a browser.

A journey is a short story with one goal ("log in with your security key"); each of its steps
says what to do and what should happen, and who acts: the harness (forms, navigation) or the
person (what only they can do: scan the QR code, type the code their phone shows, touch their
key, read the page with their screen reader). Narration is for maintainers, not test engineers:
plain words, no protocol names.

Nothing here drives a browser: :class:`StepDriver` is the contract a driver fulfils.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from harness.errors import HarnessError

KEY_LABEL = "guide test key"
"""The name the guide gives the security key it sets up, so that it (and only it) is removed."""


class Actor(StrEnum):
    """Who performs a step."""

    HARNESS = "harness"
    PERSON = "person"


class Action(StrEnum):
    """What the person does in a person's step: the guide waits for them, saying how."""

    SCAN_QR = "scan-qr"
    TYPE_CODE = "type-code"
    TOUCH_KEY = "touch-key"
    SCREEN_READER_READ = "screen-reader-read"
    CONFIRM = "confirm"


class Outcome(StrEnum):
    """How a step went."""

    WORKED = "worked"
    DID_NOT = "did not work"
    SKIPPED = "skipped"
    NOT_NEEDED = "not needed"


@dataclass(frozen=True)
class Step:
    """One step of a journey.

    :param id: unique within its journey, lower-case words joined by hyphens.
    :param narration: what to do (or what the guide is doing), one or two short sentences.
    :param expected: what should happen, as the tester will see it.
    :param actor: who acts.
    :param action: for a person's step, what they do; None for the harness's steps.
    """

    id: str
    narration: str
    expected: str
    actor: Actor
    action: Action | None = None

    def __post_init__(self) -> None:
        if (self.actor is Actor.PERSON) != (self.action is not None):
            raise ValueError(f"step {self.id}: a person's step, and only one, has an action")


def harness(id: str, narration: str, expected: str) -> Step:
    """A step the harness performs."""
    return Step(id, narration, expected, Actor.HARNESS)


def person(action: Action, id: str, narration: str, expected: str) -> Step:
    """A step the person performs, the guide waiting for them."""
    return Step(id, narration, expected, Actor.PERSON, action)


@dataclass(frozen=True)
class Journey:
    """One journey: a goal, reached in steps.

    :param id: unique in the catalogue, lower-case words joined by hyphens.
    :param title: what the tester is asked to do, as a heading.
    :param steps: in order.
    :param needs: the ids of the journeys that must have been done first (earlier in the
        catalogue): logging in with a key needs the key set up.
    :param destructive: it deletes something that cannot be brought back (a release, a
        project, a collaborator's access); offered only when the tester asks for it.
    """

    id: str
    title: str
    steps: tuple[Step, ...]
    needs: tuple[str, ...] = ()
    destructive: bool = False

    def step(self, step_id: str) -> Step:
        """The step with this id.

        :raises KeyError: there is none.
        """
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)


class ChangeKind(StrEnum):
    """What the guide can set up on the tester's account."""

    TOTP = "authenticator app"
    SECURITY_KEY = "security key"
    RECOVERY_CODES = "recovery codes"
    PROJECT = "project"
    COLLABORATOR = "collaborator"


@dataclass(frozen=True)
class AccountChange:
    """One thing the guide set up on the account, and is to undo if the tester asks.

    :param kind: what it is.
    :param name: the key's label, the project's or the collaborator's name; empty for the
        authenticator app and recovery codes, which an account has one of.
    :param journey_id: the journey that set it up.
    :param project: for a collaborator, the project they were added to; else empty.
    """

    kind: ChangeKind
    name: str = ""
    journey_id: str = ""
    project: str = ""

    def describe(self) -> str:
        """The change as a tester reads it: "security key 'guide test key'", "collaborator
        'ann' of project 'guide-test-1a2b3c4d'"."""
        described = f"{self.kind.value} '{self.name}'" if self.name else self.kind.value
        return f"{described} of project '{self.project}'" if self.project else described


@dataclass(frozen=True)
class CheckResult:
    """The result of one automatic check made during a step (an accessibility rule, a
    requirement of the contract).

    :param check: its name, e.g. a requirement id or an axe rule.
    :param passed: the page or answer met it.
    :param detail: one line: what was wrong, or what was checked.
    :param security: a failure of it is a security finding, reported only privately.
    """

    check: str
    passed: bool
    detail: str = ""
    security: bool = False


@dataclass(frozen=True)
class StepResult:
    """What came of a step.

    :param outcome: how it went.
    :param actual: what happened, one line (compared with the step's ``expected``).
    :param seconds: the time the step took, the person's included.
    :param screenshot: the screenshot taken at the end of the step, relative to the report
        folder, or None.
    :param checks: the automatic checks made during the step.
    :param set_up: what the step set up on the tester's account (for undo).
    :param removed: what the step removed of what the guide had set up.
    :param unneeded: the ids of later steps of the journey this step found no need for (the
        account already has what they would set up): the session records them as
        :attr:`Outcome.NOT_NEEDED`, ``actual`` saying why, and waits for nobody.
    """

    outcome: Outcome
    actual: str
    seconds: float
    screenshot: Path | None = None
    checks: tuple[CheckResult, ...] = field(default_factory=tuple)
    set_up: tuple[AccountChange, ...] = ()
    removed: tuple[AccountChange, ...] = ()
    unneeded: tuple[str, ...] = ()

    @property
    def findings(self) -> tuple[CheckResult, ...]:
        """The checks that failed."""
        return tuple(check for check in self.checks if not check.passed)


@dataclass(frozen=True)
class StepContext:
    """What a driver is told along with the step.

    :param journey: the journey the step belongs to.
    :param folder: the session's report folder.
    :param screenshot: where to save the step's screenshot, relative to ``folder``.
    """

    journey: Journey
    folder: Path
    screenshot: Path


class StepDriver(Protocol):
    """Performs the steps of journeys: :class:`harness.guide.browser.BrowserDriver` implements it.

    For a harness step it does what the narration says; for a person's step it is called once
    the person said they have acted, and looks at the page for what should have happened.
    Either way it saves a screenshot at ``context.screenshot``, masking what would give a
    secret away (the QR code carries the TOTP seed; recovery codes; typed codes), since
    screenshots are not scrubbed after the fact.
    """

    def perform(self, step: Step, context: StepContext) -> StepResult:
        """Perform (or, for a person's step, check) ``step``; never raises for a step that
        did not work, which is a result (:attr:`Outcome.DID_NOT`) with ``actual`` saying why.

        :raises HarnessError: the session cannot go on (the target went away).
        """
        ...


_LOG_IN_WITH_PASSWORD = harness(
    "log-in-with-password",
    "The guide logs you out, opens the login page and logs in with your username and password.",
    "A page asks for your second factor.",
)

RECOVERY_CODES_FIRST = (
    harness(
        "ask-for-app-setup",
        "The guide opens your two-factor settings to add an authenticator app. If your"
        " account has no recovery codes, or never used one, the index asks for them first.",
        "Either the index goes on to the app's set-up, and nothing about codes is needed, or"
        " a page shows your new recovery codes, each usable once.",
    ),
    person(
        Action.CONFIRM,
        "save-recovery-codes",
        "Save the recovery codes the page shows somewhere safe, such as your password manager"
        " or on paper: they are shown only now. Press Enter when they are saved.",
        "You have the codes saved, away from this computer's browser.",
    ),
    harness(
        "open-code-check",
        "The guide goes on to the page that asks for one of your recovery codes.",
        "A page asks you to type one of your recovery codes, to show you saved them.",
    ),
    person(
        Action.TYPE_CODE,
        "type-saved-code",
        "Type one of the recovery codes you saved into the page, then press Enter. Cross it"
        " off: it works only once.",
        "The page says the code was accepted; your two-factor settings are shown.",
    ),
)
"""The first steps of setting up a first second factor, under the index's policy: recovery
codes saved, and one used. The first looks whether the account needs them; when it does not,
the others are not needed."""

CATALOGUE: tuple[Journey, ...] = (
    Journey(
        "totp-setup",
        "Set up your phone's authenticator app",
        (
            *RECOVERY_CODES_FIRST,
            harness(
                "open-app-setup",
                "The guide opens your account's two-factor settings and starts adding an"
                " authenticator app.",
                "A page shows a QR code and a box for a 6-digit code.",
            ),
            person(
                Action.SCREEN_READER_READ,
                "read-setup-page",
                "If you use a screen reader, read the page now. Otherwise, type skip.",
                "It tells you what to do with the QR code, and the code box has a name.",
            ),
            person(
                Action.SCAN_QR,
                "scan-qr-code",
                "Open the authenticator app on your phone, add a new account, and scan the QR"
                " code on the page.",
                "Your app shows a new entry for this site with a 6-digit code.",
            ),
            person(
                Action.TYPE_CODE,
                "type-app-code",
                "Type the 6-digit code your app shows into the page, then press Enter.",
                "The page says your authenticator app is set up.",
            ),
            harness(
                "check-app-listed",
                "The guide checks your two-factor settings.",
                "Your authenticator app is listed there.",
            ),
        ),
    ),
    Journey(
        "totp-login",
        "Log in with your phone's authenticator app",
        (
            _LOG_IN_WITH_PASSWORD,
            person(
                Action.SCREEN_READER_READ,
                "read-code-page",
                "If you use a screen reader, read the page now. Otherwise, type skip.",
                "It asks clearly for the code from your app, and the code box has a name.",
            ),
            person(
                Action.TYPE_CODE,
                "type-app-code",
                "Type the 6-digit code your app shows now, then press Enter.",
                "You are logged in and see your account.",
            ),
        ),
        needs=("totp-setup",),
    ),
    Journey(
        "key-setup",
        "Add your security key",
        (
            harness(
                "open-key-setup",
                f"The guide opens the page for adding a security key, names it"
                f" '{KEY_LABEL}', and presses the button to set it up.",
                "Your browser asks you to use your security key.",
            ),
            person(
                Action.TOUCH_KEY,
                "touch-key",
                "Plug in your security key if it is not, and touch it when it blinks. If the"
                " browser asks for your key's PIN, type it there.",
                "The browser's request closes and the page says your key is set up.",
            ),
            harness(
                "check-key-listed",
                "The guide checks your two-factor settings.",
                f"'{KEY_LABEL}' is listed there.",
            ),
        ),
    ),
    Journey(
        "key-login",
        "Log in with your security key",
        (
            _LOG_IN_WITH_PASSWORD,
            person(
                Action.TOUCH_KEY,
                "touch-key",
                "When your browser asks for your security key, touch it.",
                "You are logged in and see your account.",
            ),
        ),
        needs=("key-setup",),
    ),
    Journey(
        "recovery-codes",
        "Log in with a recovery code, then get new codes",
        (
            harness(
                "show-codes",
                "The guide asks for recovery codes for your account.",
                "A page shows a list of recovery codes, each usable once.",
            ),
            person(
                Action.CONFIRM,
                "save-codes",
                "Write the codes down or copy them into a note. Press Enter when you have them.",
                "You have the codes saved.",
            ),
            _LOG_IN_WITH_PASSWORD,
            harness(
                "choose-recovery-code",
                "The guide chooses to log in with a recovery code.",
                "A page asks for a recovery code.",
            ),
            person(
                Action.TYPE_CODE,
                "type-recovery-code",
                "Type one of your recovery codes, then press Enter. Cross it off: it works"
                " only once.",
                "You are logged in, and the page says you used a recovery code.",
            ),
            harness(
                "new-codes",
                "The guide asks for new recovery codes.",
                "A page shows a new list of codes.",
            ),
            person(
                Action.CONFIRM,
                "compare-codes",
                "Check that the new codes differ from your old ones, then save the new ones."
                " Press Enter when done.",
                "The new codes are all different; the old ones no longer work.",
            ),
        ),
        needs=("totp-setup",),
    ),
    Journey(
        "remove-method",
        "Remove your security key from your account",
        (
            harness(
                "choose-remove",
                f"The guide opens your two-factor settings and chooses to remove '{KEY_LABEL}'.",
                "A box asks you to confirm by typing the key's name.",
            ),
            person(
                Action.CONFIRM,
                "read-confirmation",
                "Read the box. Is it clear which key will be removed? Press Enter to let the"
                " guide confirm.",
                "The box names the key that will be removed.",
            ),
            harness(
                "confirm-remove",
                "The guide types the key's name and confirms.",
                f"The page says the key was removed, and '{KEY_LABEL}' is no longer listed.",
            ),
        ),
        needs=("key-setup",),
    ),
    Journey(
        "remove-collaborator",
        "Remove a collaborator from a project",
        (
            harness(
                "add-collaborator",
                "The guide makes a test project and adds a second test account to it as a"
                " collaborator.",
                "The project's collaborators page lists you and the test account.",
            ),
            harness(
                "choose-remove",
                "The guide chooses to remove the test account.",
                "A box asks you to confirm the removal.",
            ),
            person(
                Action.CONFIRM,
                "read-confirmation",
                "Read the box. Is it clear who will lose access? Press Enter to let the guide"
                " confirm.",
                "The box names the account that will lose access.",
            ),
            harness(
                "confirm-remove",
                "The guide confirms.",
                "The test account is no longer listed, and the page says so.",
            ),
        ),
        needs=("totp-setup",),
        destructive=True,
    ),
    Journey(
        "delete-release",
        "Delete a release of a project",
        (
            harness(
                "upload-releases",
                "The guide uploads two releases of a test project, 1.0 and 1.1.",
                "The project's releases page lists both.",
            ),
            harness(
                "choose-delete",
                "The guide opens release 1.1 and chooses to delete it.",
                "A box warns that this cannot be undone and asks you to type the version.",
            ),
            person(
                Action.CONFIRM,
                "read-warning",
                "Read the warning. Is it clear what will be lost? Press Enter to let the guide"
                " confirm.",
                "The warning names release 1.1 and says it cannot be undone.",
            ),
            harness(
                "confirm-delete",
                "The guide types the version and confirms.",
                "Release 1.1 is gone; release 1.0 is still there.",
            ),
        ),
        needs=("totp-setup",),
        destructive=True,
    ),
    Journey(
        "delete-project",
        "Delete a project",
        (
            harness(
                "make-project",
                "The guide makes a test project.",
                "The project appears in your projects.",
            ),
            harness(
                "choose-delete",
                "The guide opens the project's settings and chooses to delete it.",
                "A box warns that this cannot be undone and asks you to type the project's name.",
            ),
            person(
                Action.CONFIRM,
                "read-warning",
                "Read the warning. Is it clear what will be lost? Press Enter to let the guide"
                " confirm.",
                "The warning names the project and says it cannot be undone.",
            ),
            harness(
                "confirm-delete",
                "The guide types the project's name and confirms.",
                "The project is no longer in your projects.",
            ),
        ),
        needs=("totp-setup",),
        destructive=True,
    ),
)
"""Every journey, in the order the guide offers them."""


def journey(journey_id: str, catalogue: Iterable[Journey] = CATALOGUE) -> Journey:
    """The journey with this id.

    :raises HarnessError: there is none; the message lists the ids there are.
    """
    journeys = {j.id: j for j in catalogue}
    if journey_id not in journeys:
        raise HarnessError(
            f"there is no journey {journey_id!r}: the journeys are {', '.join(journeys)}"
        )
    return journeys[journey_id]


def plan(*, destructive: bool = False, catalogue: Sequence[Journey] = CATALOGUE) -> list[Journey]:
    """The journeys of a session, in order: the destructive ones only when asked for."""
    return [j for j in catalogue if destructive or not j.destructive]


def problems(catalogue: Sequence[Journey] = CATALOGUE) -> list[str]:
    """What is wrong with a catalogue, one line each; empty when it is well-formed: ids
    unique and well-shaped, each journey's needs naming an earlier journey, step ids unique
    within each journey, every journey with a step, no destructive journey needed by one that
    is not (it would drag the destructive one in)."""
    found: list[str] = []
    seen: dict[str, Journey] = {}
    for item in catalogue:
        if not _well_shaped(item.id):
            found.append(f"journey id {item.id!r} is not lower-case words joined by hyphens")
        if item.id in seen:
            found.append(f"journey id {item.id!r} is used twice")
        if not item.steps:
            found.append(f"journey {item.id} has no step")
        for need in item.needs:
            if need not in seen:
                found.append(f"journey {item.id} needs {need!r}, which is not an earlier journey")
            elif seen[need].destructive and not item.destructive:
                found.append(f"journey {item.id} needs the destructive journey {need}")
        step_ids = [step.id for step in item.steps]
        for step_id in sorted({s for s in step_ids if step_ids.count(s) > 1}):
            found.append(f"journey {item.id} has two steps {step_id!r}")
        for step_id in step_ids:
            if not _well_shaped(step_id):
                found.append(f"step id {item.id}/{step_id!r} is not lower-case words and hyphens")
        seen[item.id] = item
    return found


def _well_shaped(name: str) -> bool:
    words = name.split("-")
    return all(word.isascii() and word.isalnum() and word.islower() for word in words)
