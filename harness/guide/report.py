"""A guided session as its report: ``summary.md`` in the form the index's maintainers asked for
(environment; per journey the steps with expected against actual, outcome, time and a
screenshot; the tester's usability and accessibility answers; the automatic checks' results),
and, when an automatic check found a security problem, ``SECURITY-PRIVATE.md`` with those
findings alone, as :mod:`harness.report.summary` does for a run: the public summary holds only
their count and a pointer to the private file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.guide.feedback import NONE_NAMED, Feedback
from harness.guide.journeys import CATALOGUE, Journey, Outcome, Step, journey
from harness.guide.state import GuideState, JourneyRecord
from harness.redaction import known_secrets
from harness.report.scrub import scrub_text
from harness.report.summary import PRIVATE, SECURITY_CONTACT, SUMMARY, private_header

TITLE = "# Login and 2FA: guided beta test"

WORKED = "worked"
DID_NOT_WORK = "did not work"
IN_PROGRESS = "stopped in the middle"
NOT_DONE = "not done"
GUIDE_PRIVATE_HEADER = private_header(
    "An automatic check of a guided session found a security problem in the index's login or"
    " two-factor authentication.",
    "The screenshots of the same session (in `screenshots/`)",
)
"""The private file's opening: a guided session has no junit.xml, only its screenshots."""


@dataclass(frozen=True)
class GuideReport:
    """The session's report as Markdown: :attr:`private` is None when no security finding."""

    public: str
    private: str | None


@dataclass(frozen=True)
class _Finding:
    journey: Journey
    number: int
    step: Step
    check: str
    detail: str
    screenshot: Path | None


def render(state: GuideState, catalogue: Sequence[Journey] = CATALOGUE) -> GuideReport:
    """The report of ``state``: every journey of its plan (done, in progress or not done),
    with its steps, answers and checks. Every known secret's value is masked.

    :raises HarnessError: the plan names a journey ``catalogue`` lacks.
    """
    journeys = {item_id: journey(item_id, catalogue) for item_id in state.plan}
    records = {record.journey_id: record for record in state.done}
    if state.current is not None:
        records[state.current.journey_id] = state.current
    private: list[_Finding] = []
    lines = [TITLE, "", *_environment(state), *_overview(state, journeys, records)]
    for number, journey_id in enumerate(state.plan, 1):
        item = journeys[journey_id]
        record = records.get(journey_id)
        lines += _journey(number, item, record, verdict_of(record))
        if record is not None:
            found = _security_findings(item, record)
            private += found
            if found:
                lines += [
                    f"{_count(len(found), 'security finding')} of the automatic checks: in"
                    f" `{PRIVATE}`, not here.",
                    "",
                ]
    if private:
        lines[2:2] = [
            f"**{_count(len(private), 'security finding')}.** The details are in `{PRIVATE}`,"
            f" not here: send that file privately to {SECURITY_CONTACT} and do not post it"
            " publicly.",
            "",
        ]
    lines += _changes_left(state)
    public = _scrubbed(lines)
    if not private:
        return GuideReport(public, None)
    text = [GUIDE_PRIVATE_HEADER, *_environment(state), "## Security findings", ""]
    for finding in private:
        text += [
            f"### {finding.journey.title} (`{finding.journey.id}`), step {finding.number}:"
            f" `{finding.check}`",
            "",
            f"- Step: {_inline(finding.step.narration)}",
            f"- Expected: {_inline(finding.step.expected)}",
            f"- What the check found: {_inline(finding.detail) or 'no detail given'}",
            _screenshot(finding.journey, finding.number, finding.step, finding.screenshot),
            "",
        ]
    return GuideReport(public, _scrubbed(text))


def write_report(
    folder: Path, state: GuideState, catalogue: Sequence[Journey] = CATALOGUE
) -> list[Path]:
    """Write ``summary.md`` (and ``SECURITY-PRIVATE.md`` when a check found a security
    problem) into the session's report ``folder``; the paths written. A private file of an
    earlier rendering of the same session is removed once it no longer applies."""
    report = render(state, catalogue)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / SUMMARY).write_text(report.public, encoding="utf-8")
    written = [folder / SUMMARY]
    if report.private is not None:
        (folder / PRIVATE).write_text(report.private, encoding="utf-8")
        written.append(folder / PRIVATE)
    else:
        (folder / PRIVATE).unlink(missing_ok=True)
    return written


def _environment(state: GuideState) -> list[str]:
    named = state.environment
    lines = [
        "## Environment",
        "",
        "| | |",
        "|---|---|",
        f"| Browser | {_cell(named.browser if named else '')} |",
        f"| Operating system | {_cell(named.os if named else '')} |",
        f"| Security key | {_cell(named.key if named else '')} |",
        f"| Authenticator app | {_cell(named.app if named else '')} |",
        f"| Target | {_cell(state.target)} |",
        f"| Harness | {_cell(state.harness_version)} |",
        f"| Session started | {_cell(state.started)} |",
        "",
        "Browser, operating system, key and app are as the tester named them.",
        "",
    ]
    return lines


def _overview(
    state: GuideState, journeys: dict[str, Journey], records: dict[str, JourneyRecord]
) -> list[str]:
    lines = [
        "## Journeys",
        "",
        "| # | journey | outcome | ease (1-5) | time |",
        "|---:|---|---|---:|---:|",
    ]
    for number, journey_id in enumerate(state.plan, 1):
        record = records.get(journey_id)
        feedback = record.feedback if record else None
        lines.append(
            f"| {number} | {_cell(journeys[journey_id].title)} (`{journey_id}`)"
            f" | {verdict_of(record)}"
            f" | {feedback.rating if feedback else ''}"
            f" | {_duration(record.seconds) if record else ''} |"
        )
    return [*lines, ""]


def verdict_of(record: JourneyRecord | None) -> str:
    """How a journey went, in the report's words: not done, stopped in the middle, worked, or
    did not work (a step failed, or the tester said it did not work)."""
    if record is None:
        return NOT_DONE
    if record.feedback is None:
        return IN_PROGRESS
    failed = any(step.result.outcome is Outcome.DID_NOT for step in record.steps)
    return DID_NOT_WORK if failed or not record.feedback.worked else WORKED


def _journey(
    number: int, journey: Journey, record: JourneyRecord | None, verdict: str
) -> list[str]:
    lines = [f"## {number}. {journey.title} (`{journey.id}`)", ""]
    if journey.destructive:
        lines += ["This journey deletes something: it was run at the tester's request.", ""]
    lines += [f"Outcome: **{verdict}**" + (f" in {_duration(record.seconds)}" if record else "")]
    lines.append("")
    if record is None:
        return lines
    results = {step.step_id: step.result for step in record.steps}
    lines += ["### Steps", ""]
    for step_number, step in enumerate(journey.steps, 1):
        who = "you" if step.action else "the guide"
        lines += [f"#### Step {step_number} ({who}): {_inline(step.narration)}", ""]
        lines.append(f"- Expected: {_inline(step.expected)}")
        result = results.get(step.id)
        if result is None:
            lines += ["- Actual: not reached", ""]
            continue
        lines += [
            f"- Actual: {_inline(result.actual) or 'nothing said'}",
            f"- Outcome: {result.outcome.value}, in {_duration(result.seconds)}",
            _screenshot(journey, step_number, step, result.screenshot),
            "",
        ]
    lines += _feedback(record.feedback)
    lines += _checks(record)
    return lines


def _feedback(feedback: Feedback | None) -> list[str]:
    if feedback is None:
        return ["The tester was not asked about this journey: it was stopped first.", ""]
    return [
        "### Usability and accessibility feedback",
        "",
        f"- Did it work for you? {'yes' if feedback.worked else 'no'}",
        f"- How easy was it (1 very hard, 5 very easy)? {feedback.rating}",
        f"- What was confusing? {_answer(feedback.confusing)}",
        f"- What could assistive technology not reach, read or show? "
        f"{_answer(feedback.accessibility)}",
        f"- Anything else? {_answer(feedback.comment)}",
        "",
    ]


def _checks(record: JourneyRecord) -> list[str]:
    checks = [check for step in record.steps for check in step.result.checks]
    if not checks:
        return ["### Automatic checks", "", "None were made in this journey.", ""]
    passed = sum(check.passed for check in checks)
    public = [check for check in checks if not check.passed and not check.security]
    failed = len(checks) - passed
    tally = f"{passed} passed, {failed} found a problem." if failed else f"All {passed} passed."
    lines = ["### Automatic checks", "", tally, ""]
    lines += [
        f"- `{check.check}`: {_inline(check.detail) or 'no detail given'}" for check in public
    ]
    return [*lines, ""] if public else lines


def _security_findings(journey: Journey, record: JourneyRecord) -> list[_Finding]:
    numbers = {step.id: number for number, step in enumerate(journey.steps, 1)}
    return [
        _Finding(
            journey,
            numbers[step.step_id],
            journey.step(step.step_id),
            check.check,
            check.detail,
            step.result.screenshot,
        )
        for step in record.steps
        for check in step.result.findings
        if check.security
    ]


def _changes_left(state: GuideState) -> list[str]:
    if not state.changes:
        return []
    lines = ["## Still on the account", "", "The guide set these up and has not undone them:", ""]
    return [*lines, *(f"- {_inline(change.describe())}" for change in state.changes), ""]


def _screenshot(journey: Journey, number: int, step: Step, path: Path | None) -> str:
    if path is None:
        return "- Screenshot: none taken"
    target = path.as_posix()
    if any(character in target for character in " ()<>"):
        target = f"<{target}>"
    return f"- Screenshot: ![{journey.id}, step {number}: {step.id}]({target})"


def _answer(text: str) -> str:
    return _inline(text) or "(no answer)"


def _inline(text: str) -> str:
    """``text`` on one line, its Markdown and HTML inert: the tester's own words are quoted,
    never interpreted (a stray ``<`` or ``|`` would break the page)."""
    # Scrubbed before escaping: an escaped secret ("a\\_b") would no longer match its value.
    flat = " ".join(scrub_text(text, known_secrets()).split())
    return "".join(f"\\{c}" if c in "\\`*_[]<>|#!" else c for c in flat)


def _cell(text: str) -> str:
    return _inline(text) or NONE_NAMED


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}{'s' if number != 1 else ''}"


def _duration(seconds: float) -> str:
    whole = round(seconds)
    if whole < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{whole} s"
    return f"{whole // 60} min {whole % 60} s"


def _scrubbed(lines: list[str]) -> str:
    return scrub_text("\n".join(lines), known_secrets())
