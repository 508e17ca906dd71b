"""`harness guide` on an account without recovery codes (the sandbox's, as any new account):
before the authenticator app, the person saves the codes the index shows and uses one, the
stand-ins acting for them in a scripted run. A session stopped once the codes were made, before
any was used, resumes with a new set; the report shows those steps with their screenshots and
no code, and the end says truthfully that the codes stay.
"""

from __future__ import annotations

import re
from pathlib import Path

from harness.guide.journeys import RECOVERY_CODES_FIRST, ChangeKind, journey, plan
from harness.guide.state import load
from harness.report.summary import SUMMARY
from tests.harness.conftest import (
    RECOVERY_CODE,
    SCREENSHOT,
    STILL_THE_SAME,
    assert_every_step_worked,
    assert_no_secret,
    guide_answers,
    run_guide,
)

JOURNEYS = plan()
CODES_FIRST = [step.id for step in RECOVERY_CODES_FIRST]


def test_an_account_without_codes_saves_and_uses_one_first_even_across_a_stop(
    tmp_path: Path,
) -> None:
    vault, out = tmp_path / "vault", tmp_path / "out"
    stop, go_on = tmp_path / "stop.toml", tmp_path / "go-on.toml"
    # Stopped at the first step the person is waited for: codes made, none saved or used.
    stop.write_text(guide_answers(JOURNEYS, stop_at="totp-setup"), encoding="utf-8")
    go_on.write_text(guide_answers(JOURNEYS), encoding="utf-8")

    first = run_guide("--answers", stop, "--out", out, vault=vault)

    assert first.returncode == 3, first.stdout[-3000:] + first.stderr
    made = load(out)
    assert made.current is not None
    assert [record.step_id for record in made.current.steps] == CODES_FIRST[:1]
    assert "The index asked for recovery codes first" in made.current.steps[0].result.actual
    assert [change.kind for change in made.changes] == [ChangeKind.RECOVERY_CODES]

    second = run_guide("--answers", go_on, "--out", out, vault=vault)

    assert second.returncode == 0, second.stdout[-3000:] + second.stderr
    assert "Going on with 'Set up your phone's authenticator app'" in second.stdout
    steps = assert_every_step_worked(out, JOURNEYS)
    # The set the stopped run made was never shown again: the guide asked for a new one.
    assert "none used" in steps["totp-setup", CODES_FIRST[0]].actual
    summary = (out / SUMMARY).read_text(encoding="utf-8")
    assert "did not work" not in summary
    assert len(SCREENSHOT.findall(summary)) == sum(len(item.steps) for item in JOURNEYS)
    for number, step in enumerate(journey("totp-setup").steps[: len(CODES_FIRST)], 1):
        assert f"Step {number} ({'you' if step.action else 'the guide'})" in summary
        assert f"(screenshots/totp-setup/{number:02d}-{step.id}.png)" in summary
    # The codes cannot be un-generated: the one change left, said so, and not hidden.
    state = load(out)
    assert [change.kind for change in state.changes] == [ChangeKind.RECOVERY_CODES]
    assert "recovery codes cannot be un-generated" in second.stdout
    assert "your account had none before; the set the guide made stays" in second.stdout
    assert STILL_THE_SAME in second.stdout
    password = re.search(r"username \S+, password (\S+)\.", first.stdout)
    assert password is not None, first.stdout[:2000]
    assert_no_secret(out, [password.group(1)])
    for run in (first, second):
        assert set(RECOVERY_CODE.findall(run.stdout + run.stderr)) <= {state.session}
