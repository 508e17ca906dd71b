"""A guided session's state in its report folder: kept atomically, resumed at the journey in
progress, never holding a secret, and a file that is not this session's left alone."""

import json
import os
from pathlib import Path

import pytest

from harness.guide.feedback import Feedback, TesterEnvironment
from harness.guide.journeys import CheckResult, Outcome, StepResult, plan
from harness.guide.state import (
    STATE_FILE,
    AccountChange,
    ChangeKind,
    GuideState,
    GuideStateError,
    load,
    resume,
    save,
    state_path,
)
from harness.redaction import Secret
from harness.staging import AccountState

PLAN = [j.id for j in plan()]
TOTP_SET_UP = AccountChange(ChangeKind.TOTP, journey_id="totp-setup")
WORKED = StepResult(
    Outcome.WORKED,
    "The page showed a QR code.",
    3.25,
    Path("screenshots/totp-setup/01-open-app-setup.png"),
    (CheckResult("axe:label", True), CheckResult("TOTP-SEED-01", False, "seed in URL", True)),
)


def session_with_a_journey_done() -> GuideState:
    state = GuideState.new("http://localhost:8000", "0.1.0", PLAN)
    state.environment = TesterEnvironment("Firefox 128", "Debian 12", "YubiKey 5", "Aegis")
    state.account_before = AccountState(
        totp=False,
        security_keys=frozenset({"my own key"}),
        api_tokens=frozenset(),
        projects=frozenset({"sampleproject"}),
        recovery_codes=None,
    )
    state.begin("totp-setup")
    state.record_step("open-app-setup", WORKED)
    state.record_step("read-setup-page", StepResult(Outcome.SKIPPED, "Skipped.", 1.0))
    state.record_step(
        "type-app-code",
        StepResult(Outcome.WORKED, "Set up.", 9.5, set_up=(TOTP_SET_UP,)),
    )
    state.finish(Feedback(worked=True, rating=4, confusing="the code box"))
    return state


class TestSessionProgress:
    def test_a_new_session_starts_at_the_first_journey(self) -> None:
        state = GuideState.new("bundled", "0.1.0", PLAN)
        assert state.next_journey() == "totp-setup"
        assert len(state.session) == 16

    def test_the_journey_in_progress_comes_next(self) -> None:
        state = session_with_a_journey_done()
        assert state.next_journey() == "totp-login"
        state.begin("totp-login")
        state.record_step("log-in-with-password", WORKED)
        assert state.next_journey() == "totp-login"

    def test_beginning_again_starts_from_the_first_step(self) -> None:
        state = session_with_a_journey_done()
        state.begin("totp-login")
        state.record_step("log-in-with-password", WORKED)
        state.begin("totp-login")
        assert state.current is not None and state.current.steps == ()

    def test_a_journey_is_not_begun_twice_or_over_another(self) -> None:
        state = session_with_a_journey_done()
        with pytest.raises(GuideStateError, match="already done"):
            state.begin("totp-setup")
        state.begin("totp-login")
        with pytest.raises(GuideStateError, match="totp-login is in progress"):
            state.begin("key-setup")

    def test_every_journey_done_leaves_nothing_next(self) -> None:
        state = GuideState.new("bundled", "0.1.0", ["key-setup"])
        state.begin("key-setup")
        state.finish(Feedback(worked=False, rating=2))
        assert state.next_journey() is None

    def test_a_steps_changes_are_recorded(self) -> None:
        state = session_with_a_journey_done()
        assert state.changes == [TOTP_SET_UP]
        state.begin("totp-login")
        state.record_step(
            "log-in-with-password", StepResult(Outcome.WORKED, "", 1, removed=(TOTP_SET_UP,))
        )
        assert state.changes == []

    def test_changes_are_recorded_once_and_forgotten_when_undone(self) -> None:
        state = GuideState.new("bundled", "0.1.0", PLAN)
        key = AccountChange(ChangeKind.SECURITY_KEY, "guide test key", "key-setup")
        state.set_up(key)
        state.set_up(key)
        assert state.changes == [key]
        assert key.describe() == "security key 'guide test key'"
        state.undone(key)
        assert state.changes == []


class TestSaveAndResume:
    def test_round_trip(self, tmp_path: Path) -> None:
        state = session_with_a_journey_done()
        state.begin("totp-login")
        state.record_step("log-in-with-password", WORKED)
        assert save(tmp_path, state) == tmp_path / STATE_FILE
        assert load(tmp_path) == state

    def test_a_collaborators_project_round_trips_and_an_older_state_has_none(
        self, tmp_path: Path
    ) -> None:
        state = session_with_a_journey_done()
        state.set_up(AccountChange(ChangeKind.COLLABORATOR, "ann", "remove-collaborator", "p1"))
        save(tmp_path, state)
        assert load(tmp_path) == state
        older = json.loads(state_path(tmp_path).read_text(encoding="utf-8"))
        for change in older["changes"]:
            del change["project"]
        state_path(tmp_path).write_text(json.dumps(older), encoding="utf-8")
        assert load(tmp_path).changes[-1].project == ""

    def test_resume_goes_on_with_the_journey_in_progress(self, tmp_path: Path) -> None:
        state = session_with_a_journey_done()
        state.begin("totp-login")
        state.record_step("log-in-with-password", WORKED)
        save(tmp_path, state)
        resumed = resume(tmp_path)
        assert resumed is not None
        assert resumed.journey_id == "totp-login"
        resumed.state.begin(resumed.journey_id)
        assert resumed.state.current is not None and resumed.state.current.steps == ()
        assert [r.journey_id for r in resumed.state.done] == ["totp-setup"]
        save(tmp_path, resumed.state)  # the same session: its own file is rewritten

    def test_resume_without_a_session_is_none(self, tmp_path: Path) -> None:
        assert resume(tmp_path) is None

    def test_the_write_is_atomic(self, tmp_path: Path, monkeypatch) -> None:
        state = session_with_a_journey_done()
        save(tmp_path, state)
        before = state_path(tmp_path).read_bytes()
        state.begin("totp-login")

        def interrupted(source: str, target: str) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(os, "replace", interrupted)
        with pytest.raises(GuideStateError, match="cannot be written: No space left"):
            save(tmp_path, state)
        assert state_path(tmp_path).read_bytes() == before
        assert sorted(p.name for p in tmp_path.iterdir()) == [STATE_FILE]

    @pytest.mark.parametrize(
        "content",
        [
            "{not json",
            '{"format": "something-else", "version": 1}',
            "[1, 2]",
            '{"format": "harness-guide-state", "version": 1, "session": "abc"}',
            '{"format": "harness-guide-state", "version": 99}',
        ],
    )
    def test_a_corrupt_or_foreign_file_is_refused_and_left_alone(
        self, tmp_path: Path, content: str
    ) -> None:
        path = state_path(tmp_path)
        path.write_text(content, encoding="utf-8")
        with pytest.raises(GuideStateError) as error:
            resume(tmp_path)
        assert "\n" not in str(error.value)
        assert "cannot be resumed" in str(error.value)
        with pytest.raises(GuideStateError):
            save(tmp_path, GuideState.new("bundled", "0.1.0", PLAN))
        assert path.read_text(encoding="utf-8") == content

    def test_another_sessions_file_is_not_overwritten(self, tmp_path: Path) -> None:
        save(tmp_path, session_with_a_journey_done())
        before = state_path(tmp_path).read_bytes()
        with pytest.raises(GuideStateError, match="another guided session"):
            save(tmp_path, GuideState.new("bundled", "0.1.0", PLAN))
        assert state_path(tmp_path).read_bytes() == before

    def test_no_secret_reaches_the_file(self, tmp_path: Path) -> None:
        code = Secret("recovery-code-" + "a1b2c3d4")
        state = session_with_a_journey_done()
        state.begin("recovery-codes")
        state.record_step("show-codes", StepResult(Outcome.WORKED, f"The page showed {code}.", 1.0))
        text = save(tmp_path, state).read_text(encoding="utf-8")
        assert str.__str__(code) not in text
        assert "The page showed ***." in text
        fields = set(json.loads(text))
        assert not fields & {"password", "totp_secret", "recovery_codes", "secret"}


@pytest.mark.parametrize(
    ("field", "value"),
    [("plan", "totp-setup"), ("done", [{"journey_id": 3}]), ("environment", ["Firefox"])],
)
def test_a_mistyped_field_is_refused(tmp_path: Path, field: str, value: object) -> None:
    data = json.loads(save(tmp_path, session_with_a_journey_done()).read_text(encoding="utf-8"))
    data[field] = value
    state_path(tmp_path).write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(GuideStateError, match="cannot be resumed"):
        resume(tmp_path)
