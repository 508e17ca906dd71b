"""The guided session, with a stand-in driver and scripted answers: every journey and answer
reaches the report, a stopped session resumes at the same journey, and undo empties the list of
what the guide set up."""

import io
from dataclasses import replace
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.guide.journeys import (
    KEY_LABEL,
    RECOVERY_CODES_FIRST,
    AccountChange,
    ChangeKind,
    Outcome,
    Step,
    StepContext,
    StepResult,
    plan,
)
from harness.guide.prompts import Prompts, ScriptedPrompts, TerminalPrompts
from harness.guide.session import SessionEnd, offer_undo, run_session, screenshot_path
from harness.guide.state import load
from harness.report.summary import SUMMARY

JOURNEYS = plan()
SETS_UP = {
    ("totp-setup", "type-app-code"): AccountChange(ChangeKind.TOTP, journey_id="totp-setup"),
    ("key-setup", "touch-key"): AccountChange(ChangeKind.SECURITY_KEY, KEY_LABEL, "key-setup"),
}


class StandIn:
    """A driver that does every step as expected, noting what it was asked to do."""

    def __init__(self, interrupt_at: str | None = None) -> None:
        self.performed: list[str] = []
        self.interrupt_at = interrupt_at

    def perform(self, step: Step, context: StepContext) -> StepResult:
        where = f"{context.journey.id}/{step.id}"
        if where == self.interrupt_at:
            raise KeyboardInterrupt
        self.performed.append(where)
        change = SETS_UP.get((context.journey.id, step.id))
        return StepResult(
            Outcome.WORKED,
            f"As expected: {step.expected}",
            0.0,
            context.screenshot,
            set_up=(change,) if change else (),
        )


class Undoer:
    def __init__(self, refuse: set[ChangeKind] = frozenset()) -> None:
        self.refuse = refuse
        self.undone: list[AccountChange] = []

    def undo(self, change: AccountChange) -> str | None:
        if change.kind in self.refuse:
            return "the index refused"
        self.undone.append(change)
        return None


def answers(guide: str = "", step_answer: dict[str, str] | None = None) -> str:
    lines = ["[environment]", 'browser = "Firefox 128"', 'os = "Debian 12"', f"[guide]\n{guide}"]
    for item in JOURNEYS:
        steps = ", ".join(
            f'{step.id} = "{(step_answer or {}).get(f"{item.id}/{step.id}", "done")}"'
            for step in item.steps
            if step.action
        )
        lines += [
            f"[journeys.{item.id}]",
            f"steps = {{ {steps} }}",
            "worked = true",
            "rating = 4",
            f'confusing = "confusing in {item.id}"',
            f'comment = "comment on {item.id}"',
        ]
    return "\n".join(lines) + "\n"


def prompts(tmp_path: Path, text: str) -> ScriptedPrompts:
    path = tmp_path / "answers.toml"
    path.write_text(text, encoding="utf-8")
    return ScriptedPrompts.from_file(path, [j.id for j in JOURNEYS], echo=io.StringIO())


def run(folder: Path, scripted: Prompts, driver: StandIn) -> SessionEnd:
    return run_session(folder, scripted, driver, target="bundled", harness_version="0.1.0")


def test_a_whole_session_reaches_the_report(tmp_path: Path) -> None:
    folder = tmp_path / "report"
    driver = StandIn()
    end = run(folder, prompts(tmp_path, answers()), driver)
    assert not end.stopped
    assert [record.journey_id for record in end.state.done] == [j.id for j in JOURNEYS]
    summary = (folder / SUMMARY).read_text(encoding="utf-8")
    for item in JOURNEYS:
        assert f"(`{item.id}`) | worked | 4 |" in summary
        assert f"confusing in {item.id}" in summary and f"comment on {item.id}" in summary
        for number, step in enumerate(item.steps, 1):
            assert f"]({screenshot_path(item.id, number, step.id).as_posix()})" in summary
    assert load(folder) == end.state
    assert {change.kind for change in end.state.changes} == {
        ChangeKind.TOTP,
        ChangeKind.SECURITY_KEY,
    }


def test_a_stopped_session_resumes_at_the_same_journey(tmp_path: Path) -> None:
    folder = tmp_path / "report"
    first = StandIn()
    end = run(folder, prompts(tmp_path, answers('stop_at = "key-login"')), first)
    assert end.stopped
    assert end.state.next_journey() == "key-login"
    assert "(`key-login`) | stopped in the middle |" in (folder / SUMMARY).read_text(
        encoding="utf-8"
    )
    again = StandIn()
    scripted = prompts(tmp_path, answers())
    end = run(folder, scripted, again)
    assert not end.stopped
    assert again.performed[0] == "key-login/log-in-with-password"
    assert not any(done.startswith("totp-setup/") for done in again.performed)
    assert "Welcome back. Going on with 'Log in with your security key'" in scripted.transcript[0]
    assert [record.journey_id for record in end.state.done] == [j.id for j in JOURNEYS]


def test_a_journey_stopped_in_the_middle_starts_again_from_its_first_step(tmp_path) -> None:
    folder = tmp_path / "report"
    stop = answers(step_answer={"key-setup/touch-key": "stop"})
    end = run(folder, prompts(tmp_path, stop), StandIn())
    assert end.stopped
    assert end.state.current is not None and len(end.state.current.steps) == 1
    summary = (folder / SUMMARY).read_text(encoding="utf-8")
    assert "(`key-setup`) | stopped in the middle |" in summary
    again = StandIn()
    end = run(folder, prompts(tmp_path, answers()), again)
    assert again.performed[:2] == ["key-setup/open-key-setup", "key-setup/touch-key"]
    done = {record.journey_id: record for record in end.state.done}
    assert [s.step_id for s in done["key-setup"].steps] == [s.id for s in JOURNEYS[2].steps]


def test_ctrl_c_during_a_step_stops_and_keeps_the_state(tmp_path: Path) -> None:
    folder = tmp_path / "report"
    end = run(folder, prompts(tmp_path, answers()), StandIn(interrupt_at="key-login/touch-key"))
    assert end.stopped and load(folder) == end.state
    assert end.state.next_journey() == "key-login"


def test_a_skipped_step_is_not_performed(tmp_path: Path) -> None:
    driver = StandIn()
    skip = answers(step_answer={"totp-setup/read-setup-page": "skip"})
    end = run(tmp_path / "report", prompts(tmp_path, skip), driver)
    assert "totp-setup/read-setup-page" not in driver.performed
    results = {record.step_id: record.result for record in end.state.done[0].steps}
    assert results["read-setup-page"].outcome is Outcome.SKIPPED


def test_steps_an_earlier_one_found_not_needed_wait_for_nobody(tmp_path: Path) -> None:
    codes_first = [step.id for step in RECOVERY_CODES_FIRST]

    class CodesSaved(StandIn):
        def perform(self, step: Step, context: StepContext) -> StepResult:
            result = super().perform(step, context)
            if step.id != codes_first[0]:
                return result
            return replace(result, actual="Codes saved already.", unneeded=tuple(codes_first[1:]))

    driver = CodesSaved()
    # Stop, were the person waited for in a step not needed.
    scripted = prompts(
        tmp_path, answers(step_answer={f"totp-setup/{s}": "stop" for s in codes_first})
    )
    end = run(tmp_path / "report", scripted, driver)
    assert not end.stopped
    assert not any(f"totp-setup/{step_id}" in driver.performed for step_id in codes_first[1:])
    results = {record.step_id: record.result for record in end.state.done[0].steps}
    for step_id in codes_first[1:]:
        assert results[step_id].outcome is Outcome.NOT_NEEDED
        assert results[step_id].actual == "Not needed: Codes saved already."
        assert results[step_id].screenshot is None
    assert "Codes saved already. So steps 2, 3, 4 are not needed." in scripted.transcript
    steps = len(JOURNEYS[0].steps)
    assert not any(line.startswith(f"Step 2 of {steps}:") for line in scripted.transcript)


def test_a_driver_error_keeps_the_state_and_report(tmp_path: Path) -> None:
    class Broken(StandIn):
        def perform(self, step: Step, context: StepContext) -> StepResult:
            if context.journey.id == "key-setup":
                raise HarnessError("the target went away")
            return super().perform(step, context)

    folder = tmp_path / "report"
    with pytest.raises(HarnessError, match="went away"):
        run(folder, prompts(tmp_path, answers()), Broken())
    state = load(folder)
    assert state is not None and state.next_journey() == "key-setup"
    assert (folder / SUMMARY).exists()


class TestUndo:
    def test_removes_what_the_guide_set_up_last_first(self, tmp_path: Path) -> None:
        folder = tmp_path / "report"
        end = run(folder, prompts(tmp_path, answers()), StandIn())
        undoer = Undoer()
        scripted = prompts(tmp_path, answers("undo = true"))
        assert offer_undo(folder, end.state, scripted, undoer) == []
        assert [c.kind for c in undoer.undone] == [ChangeKind.SECURITY_KEY, ChangeKind.TOTP]
        state = load(folder)
        assert state is not None and state.changes == []
        assert "Still on the account" not in (folder / SUMMARY).read_text(encoding="utf-8")

    def test_says_what_is_left(self, tmp_path: Path) -> None:
        folder = tmp_path / "report"
        end = run(folder, prompts(tmp_path, answers()), StandIn())
        left = offer_undo(
            folder,
            end.state,
            prompts(tmp_path, answers("undo = true")),
            Undoer(refuse={ChangeKind.TOTP}),
        )
        assert left == ["authenticator app could not be removed: the index refused"]
        assert [c.kind for c in end.state.changes] == [ChangeKind.TOTP]

    def test_keeps_everything_when_declined(self, tmp_path: Path) -> None:
        folder = tmp_path / "report"
        end = run(folder, prompts(tmp_path, answers()), StandIn())
        undoer = Undoer()
        left = offer_undo(folder, end.state, prompts(tmp_path, answers("undo = false")), undoer)
        assert len(left) == 2 and undoer.undone == []


def test_a_session_on_the_keyboard_alone(tmp_path: Path) -> None:
    setup = JOURNEYS[0]
    typed = ["Firefox 128", "Debian 12", "", "Aegis"]  # no key named
    typed += ["" for step in setup.steps if step.action]  # Enter at each person's step
    typed += ["yes", "", "5", "", "Easy"]  # the questions; then the input ends
    shown = io.StringIO()
    folder = tmp_path / "report"
    terminal = TerminalPrompts(io.StringIO("\n".join(typed) + "\n"), shown)
    end = run(folder, terminal, StandIn())
    assert end.stopped and [r.journey_id for r in end.state.done] == ["totp-setup"]
    text = shown.getvalue()
    assert f"Step 3 of {len(setup.steps)}: {setup.steps[2].narration}" in text
    assert f"What should happen: {setup.steps[2].expected}" in text
    assert (
        "Run the guide again on" in text and "'Log in with your phone's authenticator app'" in text
    )
    assert "- Anything else? Easy" in (folder / SUMMARY).read_text(encoding="utf-8")
