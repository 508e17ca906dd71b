"""A guided session's report: every journey, answer and step screenshot in ``summary.md``,
security findings only in ``SECURITY-PRIVATE.md``, and no secret anywhere."""

from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.guide.feedback import Feedback, TesterEnvironment
from harness.guide.journeys import CheckResult, Journey, Outcome, StepResult, journey, plan
from harness.guide.report import GUIDE_PRIVATE_HEADER, render, write_report
from harness.guide.state import AccountChange, ChangeKind, GuideState
from harness.redaction import Secret
from harness.report.summary import PRIVATE, SUMMARY

FEEDBACK = {
    "totp-setup": Feedback(True, 4, "Where the code box was", "", "Quick"),
    "totp-login": Feedback(True, 5, "", "The code box had no label for my screen reader", ""),
    "key-setup": Feedback(False, 2, "The browser's window", "", "Touched twice"),
}
SEED_LEAK = CheckResult("TOTP-SEED-01", False, "the QR page's address held the seed", True)


def screenshot(item: Journey, number: int) -> Path:
    return Path(f"screenshots/{item.id}/{number:02d}-{item.steps[number - 1].id}.png")


def finished_session(*, stop_in: str | None = None) -> GuideState:
    """The first journeys done with answers, every step with a screenshot; ``stop_in``
    stopped after its first step."""
    state = GuideState.new("http://localhost:8000", "0.1.0", [j.id for j in plan()])
    state.environment = TesterEnvironment("Firefox 128", "Debian 12", "YubiKey 5 NFC", "")
    for journey_id, feedback in FEEDBACK.items():
        item = journey(journey_id)
        state.begin(journey_id)
        for number, step in enumerate(item.steps, 1):
            checks = (CheckResult("axe:label", True),)
            if journey_id == "totp-setup" and number == 1:
                checks += (SEED_LEAK, CheckResult("axe:contrast", False, "grey on grey"))
            result = StepResult(
                Outcome.DID_NOT if feedback.worked is False and number == 2 else Outcome.WORKED,
                f"As expected: {step.expected}",
                1.5 * number,
                screenshot(item, number),
                checks,
            )
            state.record_step(step.id, result)
        state.finish(feedback)
    if stop_in:
        item = journey(stop_in)
        state.begin(stop_in)
        state.record_step(
            item.steps[0].id, StepResult(Outcome.WORKED, "Logged out.", 2.0, screenshot(item, 1))
        )
    state.set_up(AccountChange(ChangeKind.TOTP, journey_id="totp-setup"))
    return state


class TestSummary:
    def test_holds_every_journey_answer_and_step_screenshot(self) -> None:
        state = finished_session(stop_in="key-login")
        text = render(state).public
        for number, journey_id in enumerate(state.plan, 1):
            item = journey(journey_id)
            assert f"## {number}. {item.title} (`{journey_id}`)" in text
        for journey_id, feedback in FEEDBACK.items():
            item = journey(journey_id)
            for number, _step in enumerate(item.steps, 1):
                assert f"]({screenshot(item, number).as_posix()})" in text
            for answer in (feedback.confusing, feedback.accessibility, feedback.comment):
                if answer:
                    assert answer in text
            assert f"How easy was it (1 very hard, 5 very easy)? {feedback.rating}" in text
        assert f"]({screenshot(journey('key-login'), 1).as_posix()})" in text

    def test_states_the_environment_the_tester_named(self) -> None:
        text = render(finished_session()).public
        for row in (
            "| Browser | Firefox 128 |",
            "| Operating system | Debian 12 |",
            "| Security key | YubiKey 5 NFC |",
            "| Authenticator app | none named |",
            "| Target | http://localhost:8000 |",
            "| Harness | 0.1.0 |",
        ):
            assert row in text

    def test_gives_expected_and_actual_per_step(self) -> None:
        text = render(finished_session()).public
        step = journey("key-setup").step("touch-key")
        assert f"- Expected: {step.expected}" in text
        assert f"- Actual: As expected: {step.expected}" in text
        assert "- Outcome: did not work, in 3.0 s" in text

    def test_outcomes_of_done_stopped_and_untouched_journeys(self) -> None:
        text = render(finished_session(stop_in="key-login")).public
        assert "| Set up your phone's authenticator app (`totp-setup`) | worked | 4 |" in text
        assert "| Add your security key (`key-setup`) | did not work | 2 |" in text
        assert "(`key-login`) | stopped in the middle |" in text
        assert "(`recovery-codes`) | not done |" in text
        assert "- Actual: not reached" in text
        assert "The tester was not asked about this journey: it was stopped first." in text

    def test_lists_what_is_still_on_the_account(self) -> None:
        text = render(finished_session()).public
        assert "## Still on the account" in text
        assert "- authenticator app" in text

    def test_the_testers_words_are_quoted_not_interpreted(self) -> None:
        state = finished_session()
        state.done[0] = type(state.done[0])(
            state.done[0].journey_id,
            state.done[0].steps,
            Feedback(True, 3, "a | b <script>x</script>\nnew line"),
        )
        text = render(state).public
        assert "<script>" not in text
        assert r"a \| b \<script\>x\</script\> new line" in text


class TestSecurityFindings:
    def test_are_only_in_the_private_file(self) -> None:
        report = render(finished_session())
        assert "TOTP-SEED-01" not in report.public
        assert SEED_LEAK.detail not in report.public
        assert f"**1 security finding.** The details are in `{PRIVATE}`" in report.public
        assert report.private is not None
        assert report.private.startswith(GUIDE_PRIVATE_HEADER)
        assert "junit.xml" not in report.private
        assert "`TOTP-SEED-01`" in report.private
        assert SEED_LEAK.detail in report.private
        assert f"]({screenshot(journey('totp-setup'), 1).as_posix()})" in report.private

    def test_other_findings_are_public(self) -> None:
        text = render(finished_session()).public
        assert "- `axe:contrast`: grey on grey" in text
        steps = len(journey("totp-setup").steps)
        assert f"{steps} passed, 2 found a problem." in text

    def test_no_private_file_without_one(self, tmp_path: Path) -> None:
        state = finished_session()
        assert write_report(tmp_path, state) == [tmp_path / SUMMARY, tmp_path / PRIVATE]
        state.done[0] = type(state.done[0])(
            "totp-setup",
            tuple(
                type(s)(s.step_id, StepResult(Outcome.WORKED, "ok", 1.0, s.result.screenshot))
                for s in state.done[0].steps
            ),
            state.done[0].feedback,
        )
        assert render(state).private is None
        assert write_report(tmp_path, state) == [tmp_path / SUMMARY]
        assert not (tmp_path / PRIVATE).exists()


def test_no_secret_reaches_the_markdown(tmp_path: Path) -> None:
    password = Secret("correct_horse_" + "battery")
    state = finished_session()
    state.done[1] = type(state.done[1])(
        "totp-login",
        state.done[1].steps,
        Feedback(True, 5, comment=f"I typed {password} by mistake"),
    )
    for path in write_report(tmp_path, state):
        text = path.read_text(encoding="utf-8")
        assert str.__str__(password) not in text
    assert "I typed \\*\\*\\* by mistake" in (tmp_path / SUMMARY).read_text(encoding="utf-8")


def test_a_journey_the_catalogue_lacks_is_one_line() -> None:
    state = finished_session()
    state.plan.append("teleport")
    with pytest.raises(HarnessError, match="there is no journey 'teleport'"):
        render(state)
