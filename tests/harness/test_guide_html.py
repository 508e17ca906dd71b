"""The guided session's HTML page: the same journeys, answers and screenshots as the summary,
the tester's words escaped, and security findings only counted."""

from pathlib import Path

from harness.guide.feedback import Feedback, TesterEnvironment
from harness.guide.html import PAGE, render_html, write_html
from harness.guide.journeys import CheckResult, Outcome, StepResult, journey, plan
from harness.guide.state import GuideState

LEAK = CheckResult("recovery-code-single-use", False, "a used code was accepted again", True)


def session() -> GuideState:
    state = GuideState.new("http://localhost:8000", "0.1.0", [j.id for j in plan()])
    state.environment = TesterEnvironment("Firefox <128>", "Debian 12", "", "")
    item = journey("totp-setup")
    state.begin(item.id)
    for number, step in enumerate(item.steps, 1):
        checks = (LEAK,) if number == 1 else (CheckResult("axe: label", False, "no label"),)
        shot = Path(f"screenshots/{item.id}/{number:02d}-{step.id}.png")
        state.record_step(step.id, StepResult(Outcome.WORKED, "As expected.", 1.0, shot, checks))
    state.finish(Feedback(True, 4, "The <script>alert(1)</script> box", "", "fine"))
    return state


def test_every_step_has_its_screenshot_and_the_answers_are_escaped() -> None:
    page = render_html(session())

    for number, step in enumerate(journey("totp-setup").steps, 1):
        assert f'src="screenshots/totp-setup/{number:02d}-{step.id}.png"' in page
    assert "The &lt;script&gt;alert(1)&lt;/script&gt; box" in page
    assert "<script>" not in page
    assert "Firefox &lt;128&gt;" in page
    for item in plan():
        assert f"<code>{item.id}</code>" in page


def test_security_findings_are_counted_not_told() -> None:
    page = render_html(session())

    assert "1 security finding(s)" in page and "SECURITY-PRIVATE.md" in page
    assert LEAK.detail not in page
    assert "no label" in page


def test_loads_nothing_from_the_network(tmp_path: Path) -> None:
    path = write_html(tmp_path, session())

    assert path == tmp_path / PAGE
    text = path.read_text(encoding="utf-8")
    assert "http://" not in text.replace("http://localhost:8000", "")
    assert "https://" not in text.replace("https://pypi.org/security/", "")
