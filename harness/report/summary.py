"""The tester's bug report: ``summary.md``, ready to paste into an issue, and, when a security
requirement failed, ``SECURITY-PRIVATE.md`` with those failures alone, to send privately.

A security failure never appears in ``summary.md`` beyond a count: the seed asks that security
bugs be reported privately, and testers paste the summary into public issues.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from harness.catalogue import Severity
from harness.report.environment import RunEnvironment
from harness.report.results import RequirementVerdict, Status, TestOutcome, tally

SUMMARY = "summary.md"
PRIVATE = "SECURITY-PRIVATE.md"
SECURITY_CONTACT = "security@pypi.org (https://pypi.org/security/)"
MESSAGE_LINES = 12
"""Lines of a failure's message quoted in the report; the rest is in the HTML report."""


def private_header(what_failed: str, also_showing: str) -> str:
    """The opening of a ``SECURITY-PRIVATE.md``: ``what_failed``, a sentence; ``also_showing``,
    the other files of the same report that show the failures too."""
    return f"""\
# SECURITY: send this file privately

**Do not post this file, or anything from it, in a public issue, chat or forum.**

{what_failed} Send this file privately to the index's security contact: for PyPI,
{SECURITY_CONTACT}; for a staging server of your own organisation, to its
operators. {also_showing} also show these failures: share them only privately too.
"""


PRIVATE_HEADER = private_header(
    "A security requirement of the index's login or two-factor authentication failed.",
    "The HTML report and `junit.xml` of the same run",
)


def write_summaries(
    folder: Path, environment: RunEnvironment, found: list[RequirementVerdict]
) -> list[Path]:
    """Write ``summary.md`` (and ``SECURITY-PRIVATE.md`` when a security requirement failed)
    into the run's report ``folder``; the paths written."""
    private = [v for v in found if v.requirement.severity is Severity.SECURITY and _wrong(v)]
    public = [v for v in found if _wrong(v) and v not in private]
    written = [folder / SUMMARY]
    summary = [
        "# Login and 2FA conformance: test report",
        "",
        *_environment(environment),
        *_results(found),
    ]
    if private:
        summary += [
            f"**{len(private)} security requirement{'s' if len(private) > 1 else ''} failed.**"
            f" The details are in `{PRIVATE}`, not here: send that file privately to"
            f" {SECURITY_CONTACT} and do not post it publicly.",
            "",
        ]
    summary += _failures("What failed", [v for v in public if v.status is Status.FAILED], folder)
    summary += _failures(
        "What could not be checked (errors)",
        [v for v in public if v.status is Status.ERROR],
        folder,
    )
    summary += _skipped(found)
    (folder / SUMMARY).write_text("\n".join(summary), encoding="utf-8")
    if private:
        text = [PRIVATE_HEADER, *_environment(environment)]
        text += _failures("Security requirements that failed", private, folder)
        (folder / PRIVATE).write_text("\n".join(text), encoding="utf-8")
        written.append(folder / PRIVATE)
    return written


def _wrong(verdict: RequirementVerdict) -> bool:
    return verdict.status in (Status.FAILED, Status.ERROR)


def _environment(environment: RunEnvironment) -> list[str]:
    return [
        "## Environment",
        "",
        "| | |",
        "|---|---|",
        f"| Target | {environment.target} |",
        f"| Target profile | {environment.profile} (policy: {environment.policy}) |",
        f"| Browser | {environment.browser} |",
        f"| Authenticators | {environment.authenticator} |",
        f"| Harness | {environment.harness_version} |",
        f"| Run started | {environment.started} |",
        f"| Command | `{environment.command}` |",
        f"| Shard | {environment.shard} |",
        "",
    ]


def _results(found: list[RequirementVerdict]) -> list[str]:
    counts = tally(found)
    shown = [Status.PASSED, Status.FAILED, Status.ERROR, Status.SKIPPED]
    lines = [
        "## Requirements",
        "",
        "| severity | " + " | ".join(status.value for status in shown) + " |",
        "|---|" + "---:|" * len(shown),
    ]
    for severity in Severity:
        row = counts[severity]
        lines.append(f"| {severity.value} | " + " | ".join(str(row[s]) for s in shown) + " |")
    not_run = sum(counts[severity][Status.NOT_RUN] for severity in Severity)
    if not_run:
        lines += ["", f"{not_run} requirements of the catalogue were not selected for this run."]
    return [*lines, ""]


def _failures(title: str, found: list[RequirementVerdict], folder: Path) -> list[str]:
    if not found:
        return []
    lines = [f"## {title}", ""]
    for verdict in found:
        requirement = verdict.requirement
        lines += [
            f"### {requirement.id}: {requirement.text}",
            "",
            f"- Severity: {requirement.severity.value}",
            f"- Source: {requirement.source}",
            f"- Run it again: `harness run --requirement {requirement.id}`",
            "",
        ]
        for test in verdict.tests:
            if test.status in (Status.FAILED, Status.ERROR):
                lines += _test(test, folder)
    return lines


def _test(test: TestOutcome, folder: Path) -> list[str]:
    lines = [f"#### `{test.nodeid}` ({test.status.value})", ""]
    if test.description:
        lines += [test.description, ""]
    if test.steps:
        lines += ["Steps the test took:", ""]
        lines += [
            f"{'   ' * step.depth}1. {step.title}"
            + (f" **({step.status})**" if step.status not in ("passed", "") else "")
            for step in test.steps
        ]
        lines.append("")
    message = test.message.splitlines()
    lines += ["What happened:", "", "```", *message[:MESSAGE_LINES]]
    if len(message) > MESSAGE_LINES:
        lines.append("… (the rest is in the HTML report)")
    lines += ["```", ""]
    lines += list(_evidence(test, folder))
    return lines


def _evidence(test: TestOutcome, folder: Path) -> Iterable[str]:
    for attachment in test.attachments:
        relative = attachment.path.relative_to(folder).as_posix()
        if attachment.media_type.startswith("image/"):
            yield f"![{attachment.name}]({relative})"
        else:
            yield f"- {attachment.name}: `{relative}`"
        yield ""


def _skipped(found: list[RequirementVerdict]) -> list[str]:
    skipped = [v for v in found if v.status is Status.SKIPPED]
    if not skipped:
        return []
    lines = ["## Skipped requirements", ""]
    for verdict in skipped:
        reasons = sorted({test.message.removeprefix("Skipped: ") for test in verdict.tests})
        lines.append(f"- {verdict.requirement.id}: {'; '.join(reasons)}")
    return [*lines, ""]
