"""The guided session itself, browser-free: journeys one at a time, each step narrated, the
person waited for where only they can act (and for nothing in a step an earlier one found not
needed: the account already has what it would set up), the questions after each journey, the
state saved after every step, the report written whenever the session ends or stops, and the
offer to undo what the guide set up on the account.

What touches the browser or the account is behind two hooks: a
:class:`~harness.guide.journeys.StepDriver` performs (or checks) each step, and an
:class:`Undoer` removes one thing the guide set up.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from harness.errors import HarnessError
from harness.guide.feedback import ask_environment, ask_feedback
from harness.guide.journeys import (
    CATALOGUE,
    AccountChange,
    Journey,
    Outcome,
    StepContext,
    StepDriver,
    StepResult,
    journey,
    plan,
)
from harness.guide.prompts import GUIDE, GuideStopped, Prompts, Reply
from harness.guide.report import write_report
from harness.guide.state import GuideState, resume, save

SCREENSHOTS = "screenshots"
"""The folder, in the report folder, of the steps' screenshots: one folder per journey."""


class Undoer(Protocol):
    """Removes from the tester's account one thing the guide set up
    (:class:`harness.guide.account.GuideUndoer`, on :mod:`harness.staging`'s removal forms)."""

    def undo(self, change: AccountChange) -> str | None:
        """Remove ``change``; None when it is gone, else the reason it is not, one line."""
        ...


@dataclass(frozen=True)
class SessionEnd:
    """How a session ended.

    :param state: as saved.
    :param stopped: the person (or the script) stopped it: the same folder resumes it.
    :param report: the report's files.
    """

    state: GuideState
    stopped: bool
    report: list[Path]


def screenshot_path(journey_id: str, number: int, step_id: str) -> Path:
    """Where the ``number``-th step's screenshot goes, relative to the report folder."""
    return Path(SCREENSHOTS, journey_id, f"{number:02d}-{step_id}.png")


def run_session(
    folder: Path,
    prompts: Prompts,
    driver: StepDriver,
    *,
    target: str,
    harness_version: str,
    destructive: bool = False,
    catalogue: Sequence[Journey] = CATALOGUE,
    clock: Callable[[], float] = time.monotonic,
) -> SessionEnd:
    """Go through the session kept in ``folder``: a new one, or the stopped one resumed at its
    journey in progress, from that journey's first step.

    A step's time is measured here, the person's included, and replaces the driver's. The
    person stopping (``stop``, Ctrl-C, a scripted stop) saves the state and the report and
    returns; so does a :exc:`HarnessError` of the driver, which is then raised again.

    :param target: the target's URL or description, for a new session's report.
    :param destructive: a new session also goes through the destructive journeys; a resumed
        one keeps the plan it began with.
    :raises GuideStateError: the folder's state file is not this harness's (left alone).
    """
    resumed = resume(folder)
    if resumed is None:
        ids = [j.id for j in plan(destructive=destructive, catalogue=catalogue)]
        state = GuideState.new(target, harness_version, ids)
        save(folder, state)
    else:
        state = resumed.state
    try:
        if state.environment is None:
            prompts.say("Welcome. A few questions about what you use, for the report.")
            state.environment = ask_environment(prompts)
            save(folder, state)
        elif resumed is not None and resumed.journey_id is not None:
            title = journey(resumed.journey_id, catalogue).title
            prompts.say(f"Welcome back. Going on with '{title}', from its first step.")
        while (journey_id := state.next_journey()) is not None:
            _go_through(folder, state, journey(journey_id, catalogue), prompts, driver, clock)
    except (GuideStopped, KeyboardInterrupt):
        save(folder, state)
        report = write_report(folder, state, catalogue)
        following = state.next_journey()
        if following is not None:
            title = journey(following, catalogue).title
            prompts.say(f"Stopped. Run the guide again on {folder} to go on with '{title}'.")
        return SessionEnd(state, True, report)
    except HarnessError:
        save(folder, state)
        write_report(folder, state, catalogue)
        raise
    prompts.say(f"All done, thank you. The report is in {folder}.")
    return SessionEnd(state, False, write_report(folder, state, catalogue))


def offer_undo(
    folder: Path,
    state: GuideState,
    prompts: Prompts,
    undoer: Undoer,
    catalogue: Sequence[Journey] = CATALOGUE,
) -> list[str]:
    """Offer to remove what the guide set up on the account, last first; when the person
    accepts (``undo`` in :data:`~harness.guide.prompts.GUIDE`), remove it, saving the state
    after each removal. Returns one line per thing still there, with the reason.

    :raises GuideStopped: the person stopped at the question; nothing was removed.
    """
    if not state.changes:
        return []
    listed = ", ".join(change.describe() for change in state.changes)
    if not prompts.yes_no(GUIDE, "undo", f"The guide set up on your account: {listed}. Remove?"):
        return [f"{change.describe()} was kept, as you asked" for change in state.changes]
    left = []
    for change in reversed(list(state.changes)):
        reason = undoer.undo(change)
        if reason is None:
            state.undone(change)
            save(folder, state)
            prompts.say(f"Removed: {change.describe()}.")
        else:
            left.append(f"{change.describe()} could not be removed: {reason}")
            prompts.say(left[-1])
    write_report(folder, state, catalogue)
    return left


def _go_through(
    folder: Path,
    state: GuideState,
    item: Journey,
    prompts: Prompts,
    driver: StepDriver,
    clock: Callable[[], float],
) -> None:
    state.begin(item.id)
    save(folder, state)
    number = state.plan.index(item.id) + 1
    prompts.say(f"Journey {number} of {len(state.plan)}: {item.title}.")
    # Steps an earlier step found no need for, with the reason to record for each.
    unneeded: dict[str, str] = {}
    for step_number, step in enumerate(item.steps, 1):
        if step.id in unneeded:
            state.record_step(step.id, StepResult(Outcome.NOT_NEEDED, unneeded[step.id], 0.0))
            save(folder, state)
            continue
        prompts.say(f"Step {step_number} of {len(item.steps)}: {step.narration}")
        prompts.say(f"What should happen: {step.expected}")
        started = clock()
        if step.action is not None and prompts.wait_for_person(item.id, step) is Reply.SKIP:
            result = StepResult(Outcome.SKIPPED, "Skipped by the tester.", 0.0)
        else:
            context = StepContext(item, folder, screenshot_path(item.id, step_number, step.id))
            result = driver.perform(step, context)
            if result.outcome is Outcome.DID_NOT:
                prompts.say(f"That did not work: {result.actual}")
            elif result.unneeded:
                prompts.say(_not_needed(item, result))
                unneeded.update(dict.fromkeys(result.unneeded, f"Not needed: {result.actual}"))
        state.record_step(step.id, replace(result, seconds=clock() - started))
        save(folder, state)
    state.finish(ask_feedback(prompts, item))
    save(folder, state)


def _not_needed(item: Journey, result: StepResult) -> str:
    """What the person is told when ``result`` spares them later steps of ``item``."""
    numbers = [str(n) for n, step in enumerate(item.steps, 1) if step.id in result.unneeded]
    steps = f"steps {', '.join(numbers)} are" if len(numbers) > 1 else f"step {numbers[0]} is"
    return f"{result.actual} So {steps} not needed."
