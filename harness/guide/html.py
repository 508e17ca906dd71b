"""A guided session as one HTML page, ``guide.html``, beside ``summary.md`` and from the same
state: environment, journeys, each step's expected against actual with its screenshot, the
tester's answers and the automatic checks. Security findings are only counted, with a
pointer to the private file, as in the summary.

The page loads nothing from the network: its style is inline and its screenshots are the
report folder's own files, linked relatively, so the folder can be zipped and opened anywhere.
Every text is escaped, and every known secret masked, before it is written.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from harness.guide.journeys import CATALOGUE, Journey, journey
from harness.guide.report import WORKED, verdict_of
from harness.guide.state import GuideState, JourneyRecord
from harness.redaction import known_secrets
from harness.report.scrub import scrub_text
from harness.report.summary import PRIVATE, SECURITY_CONTACT

PAGE = "guide.html"

_STYLE = """
body { font: 16px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #111; }
table { border-collapse: collapse; } th, td { border: 1px solid #999; padding: .25rem .5rem;
       text-align: left; vertical-align: top; }
img { max-width: 100%; border: 1px solid #999; }
.worked { color: #064; } .did-not { color: #a00; }
"""


def render_html(state: GuideState, catalogue: Sequence[Journey] = CATALOGUE) -> str:
    """The session's page (see the module's docstring).

    :raises HarnessError: the plan names a journey ``catalogue`` lacks.
    """
    records = {record.journey_id: record for record in state.done}
    if state.current is not None:
        records[state.current.journey_id] = state.current
    named = state.environment
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>Login and 2FA: guided beta test</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>Login and 2FA: guided beta test</h1>",
    ]
    private = sum(
        1
        for record in records.values()
        for step in record.steps
        for check in step.result.findings
        if check.security
    )
    if private:
        parts.append(
            f"<p><strong>{private} security finding(s).</strong> The details are in"
            f" <code>{PRIVATE}</code>, not here: send that file privately to"
            f" {_text(SECURITY_CONTACT)}.</p>"
        )
    parts += ["<h2>Environment</h2>", "<table>"]
    for label, value in (
        ("Browser", named.browser if named else ""),
        ("Operating system", named.os if named else ""),
        ("Security key", named.key if named else ""),
        ("Authenticator app", named.app if named else ""),
        ("Target", state.target),
        ("Harness", state.harness_version),
        ("Session started", state.started),
    ):
        parts.append(f"<tr><th scope=row>{label}</th><td>{_text(value or 'none named')}</td></tr>")
    parts.append("</table>")
    for number, journey_id in enumerate(state.plan, 1):
        parts += _journey(number, journey(journey_id, catalogue), records.get(journey_id))
    if state.changes:
        parts += ["<h2>Still on the account</h2>", "<ul>"]
        parts += [f"<li>{_text(change.describe())}</li>" for change in state.changes]
        parts.append("</ul>")
    parts.append("</body></html>")
    return scrub_text("\n".join(parts), known_secrets())


def write_html(folder: Path, state: GuideState, catalogue: Sequence[Journey] = CATALOGUE) -> Path:
    """Write the session's page into its report ``folder``; its path."""
    path = folder / PAGE
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(state, catalogue), encoding="utf-8")
    return path


def _journey(number: int, item: Journey, record: JourneyRecord | None) -> list[str]:
    verdict = verdict_of(record)
    style = "worked" if verdict == WORKED else "did-not"
    parts = [
        f"<h2>{number}. {_text(item.title)} (<code>{item.id}</code>)</h2>",
        f'<p>Outcome: <strong class="{style}">{verdict}</strong></p>',
    ]
    if record is None:
        return parts
    results = {step.step_id: step.result for step in record.steps}
    parts.append("<ol>")
    for step_number, step in enumerate(item.steps, 1):
        who = "you" if step.action else "the guide"
        result = results.get(step.id)
        parts += [
            f"<li><p>({who}) {_text(step.narration)}</p><ul>",
            f"<li>Expected: {_text(step.expected)}</li>",
        ]
        if result is None:
            parts.append("<li>Actual: not reached</li></ul></li>")
            continue
        parts += [
            f"<li>Actual: {_text(result.actual)}</li>",
            f"<li>Outcome: {result.outcome.value}, in {result.seconds:.1f} s</li>",
            "</ul>",
        ]
        if result.screenshot is not None:
            source = html.escape(result.screenshot.as_posix(), quote=True)
            alt = html.escape(f"{item.id}, step {step_number}: {step.id}", quote=True)
            parts.append(f'<p><img src="{source}" alt="{alt}" loading="lazy"></p>')
        parts.append("</li>")
    parts.append("</ol>")
    feedback = record.feedback
    if feedback is not None:
        parts += [
            "<h3>Usability and accessibility feedback</h3>",
            "<ul>",
            f"<li>Did it work for you? {'yes' if feedback.worked else 'no'}</li>",
            f"<li>How easy was it (1 very hard, 5 very easy)? {feedback.rating}</li>",
            f"<li>What was confusing? {_answer(feedback.confusing)}</li>",
            "<li>What could assistive technology not reach, read or show?"
            f" {_answer(feedback.accessibility)}</li>",
            f"<li>Anything else? {_answer(feedback.comment)}</li>",
            "</ul>",
        ]
    checks = [check for step in record.steps for check in step.result.checks]
    public = [check for check in checks if not check.passed and not check.security]
    passed = sum(check.passed for check in checks)
    parts.append(f"<h3>Automatic checks</h3><p>{passed} of {len(checks)} passed.</p>")
    if public:
        parts.append("<ul>")
        parts += [
            f"<li><code>{_text(check.check)}</code>: {_text(check.detail)}</li>" for check in public
        ]
        parts.append("</ul>")
    return parts


def _answer(text: str) -> str:
    return _text(text) if text else "(no answer)"


def _text(text: str) -> str:
    # Masked before escaping: an escaped secret ("a&amp;b") would no longer match its value.
    return html.escape(scrub_text(text, known_secrets()), quote=True)
