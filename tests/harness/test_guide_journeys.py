"""The guided session's journeys: a well-formed catalogue, written for a person to read."""

from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.guide.journeys import (
    CATALOGUE,
    AccountChange,
    Action,
    Actor,
    ChangeKind,
    CheckResult,
    Journey,
    Outcome,
    Step,
    StepContext,
    StepDriver,
    StepResult,
    harness,
    journey,
    person,
    plan,
    problems,
)

ISSUE_JOURNEYS = {
    "totp-setup",
    "totp-login",
    "key-setup",
    "key-login",
    "recovery-codes",
    "remove-method",
    "remove-collaborator",
    "delete-release",
    "delete-project",
}


class TestCatalogue:
    def test_is_well_formed(self) -> None:
        assert problems() == []

    def test_holds_every_journey_of_the_issue(self) -> None:
        assert {j.id for j in CATALOGUE} == ISSUE_JOURNEYS

    def test_only_deleting_journeys_are_destructive(self) -> None:
        destructive = {j.id for j in CATALOGUE if j.destructive}
        assert destructive == {"remove-collaborator", "delete-release", "delete-project"}

    def test_logins_need_their_setup(self) -> None:
        assert journey("totp-login").needs == ("totp-setup",)
        assert journey("key-login").needs == ("key-setup",)

    def test_every_journey_has_the_person_act(self) -> None:
        for item in CATALOGUE:
            assert any(step.actor is Actor.PERSON for step in item.steps), item.id

    def test_person_actions_cover_what_only_a_person_can_do(self) -> None:
        actions = {step.action for item in CATALOGUE for step in item.steps}
        assert set(Action) <= actions

    def test_narration_is_short_plain_sentences(self) -> None:
        for item in CATALOGUE:
            for step in item.steps:
                for text in (step.narration, step.expected):
                    assert text.endswith("."), (item.id, step.id)
                    assert len(text) <= 160, (item.id, step.id)
                    for jargon in ("WebAuthn", "TOTP", "CTAP", "FIDO", "POST", "HTTP"):
                        assert jargon not in text, (item.id, step.id, jargon)


class TestProblems:
    def test_duplicate_ids_and_unknown_needs_are_found(self) -> None:
        step = harness("open", "Open it.", "It opens.")
        found = problems(
            [
                Journey("a", "A", (step,), needs=("b",)),
                Journey("b", "B", (step, step)),
                Journey("b", "B again", (step,)),
            ]
        )
        assert found == [
            "journey a needs 'b', which is not an earlier journey",
            "journey b has two steps 'open'",
            "journey id 'b' is used twice",
        ]

    def test_needing_a_destructive_journey_is_found(self) -> None:
        step = harness("open", "Open it.", "It opens.")
        found = problems(
            [
                Journey("wipe", "Wipe", (step,), destructive=True),
                Journey("x", "X", (step,), ("wipe",)),
            ]
        )
        assert found == ["journey x needs the destructive journey wipe"]

    def test_badly_shaped_ids_and_empty_journeys_are_found(self) -> None:
        found = problems([Journey("Set Up", "S", ())])
        assert found == [
            "journey id 'Set Up' is not lower-case words joined by hyphens",
            "journey Set Up has no step",
        ]


class TestSteps:
    def test_a_person_step_needs_an_action(self) -> None:
        with pytest.raises(ValueError, match="a person's step"):
            Step("touch", "Touch it.", "It blinks.", Actor.PERSON)

    def test_a_harness_step_has_no_action(self) -> None:
        with pytest.raises(ValueError, match="a person's step"):
            Step("open", "Open it.", "It opens.", Actor.HARNESS, Action.CONFIRM)

    def test_person_builds_a_person_step(self) -> None:
        step = person(Action.TOUCH_KEY, "touch", "Touch it.", "It blinks.")
        assert (step.actor, step.action) == (Actor.PERSON, Action.TOUCH_KEY)

    def test_journey_finds_its_step(self) -> None:
        assert journey("key-login").step("touch-key").action is Action.TOUCH_KEY
        with pytest.raises(KeyError):
            journey("key-login").step("scan-qr-code")


def test_unknown_journey_is_one_line_listing_the_others() -> None:
    with pytest.raises(HarnessError) as error:
        journey("totp-setpu")
    assert "\n" not in str(error.value)
    assert "totp-setup" in str(error.value)


def test_plan_offers_destructive_journeys_only_on_request() -> None:
    assert not any(j.destructive for j in plan())
    assert [j.id for j in plan(destructive=True)] == [j.id for j in CATALOGUE]


@pytest.mark.parametrize(
    ("change", "described"),
    [
        (AccountChange(ChangeKind.TOTP), "authenticator app"),
        (AccountChange(ChangeKind.PROJECT, "guide-test-1"), "project 'guide-test-1'"),
        (
            AccountChange(ChangeKind.COLLABORATOR, "ann", project="guide-test-1"),
            "collaborator 'ann' of project 'guide-test-1'",
        ),
    ],
)
def test_a_change_reads_as_the_tester_knows_it(change: AccountChange, described: str) -> None:
    assert change.describe() == described


def test_findings_are_the_failed_checks() -> None:
    result = StepResult(
        Outcome.WORKED,
        "The page showed a QR code.",
        2.5,
        checks=(CheckResult("axe:label", True), CheckResult("TOTP-01", False, "no", True)),
    )
    assert result.findings == (CheckResult("TOTP-01", False, "no", True),)


def test_a_driver_fulfils_the_protocol(tmp_path: Path) -> None:
    class Echo:
        def perform(self, step: Step, context: StepContext) -> StepResult:
            return StepResult(Outcome.WORKED, step.expected, 0.1, context.screenshot)

    driver: StepDriver = Echo()
    item = journey("key-login")
    context = StepContext(item, tmp_path, Path("screenshots/key-login/01.png"))
    result = driver.perform(item.steps[0], context)
    assert result.screenshot == Path("screenshots/key-login/01.png")
