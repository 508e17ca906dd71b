"""The conformance matrix as one self-contained HTML page: requirement by authenticator by
browser → passed, failed, error or skipped, with the reasons. It is the report's centre, and the
whole HTML report when Node (for Allure's) is missing."""

from __future__ import annotations

from dataclasses import asdict
from html import escape
from pathlib import Path

from harness.report.environment import RunEnvironment
from harness.report.results import RequirementVerdict, Status, TestOutcome, tally

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem; color: #1b1b1b; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: 0.5rem 0; }
th, td { border: 1px solid #c8c8c8; padding: 0.3rem 0.55rem; text-align: left;
         vertical-align: top; }
th { background: #f0f0f0; }
td.passed { background: #dff3e0; } td.failed { background: #f8d7d7; }
td.error { background: #fbe6c8; } td.skipped { background: #ececec; color: #555; }
td.not-run { color: #888; }
details summary { cursor: pointer; }
code { font-size: 0.9em; }
"""


def write_matrix(path: Path, environment: RunEnvironment, found: list[RequirementVerdict]) -> Path:
    """Write the matrix page to ``path``; returns ``path``."""
    columns = sorted({_column(test) for verdict in found for test in verdict.tests})
    page = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Login and 2FA conformance matrix</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>Login and 2FA conformance matrix</h1>",
        _environment(environment),
        _tally(found),
        "<h2>Requirements</h2>",
        "<table><thead><tr><th>requirement</th><th>severity</th><th>verdict</th>",
        *(f"<th>{escape(a or 'any key')}<br>{escape(b or 'no browser')}</th>" for a, b in columns),
        "</tr></thead><tbody>",
        *(_row(verdict, columns) for verdict in found),
        "</tbody></table></body></html>",
    ]
    path.write_text("\n".join(page), encoding="utf-8")
    return path


def _column(test: TestOutcome) -> tuple[str, str]:
    return (test.authenticator, test.browser)


def _environment(environment: RunEnvironment) -> str:
    rows = "".join(
        f"<tr><th>{escape(name.replace('_', ' '))}</th><td>{escape(value)}</td></tr>"
        for name, value in asdict(environment).items()
    )
    return f"<h2>Environment</h2><table>{rows}</table>"


def _tally(found: list[RequirementVerdict]) -> str:
    shown = [Status.PASSED, Status.FAILED, Status.ERROR, Status.SKIPPED, Status.NOT_RUN]
    head = "".join(f"<th>{status.value}</th>" for status in shown)
    rows = "".join(
        f"<tr><th>{severity.value}</th>"
        + "".join(f"<td>{counts[status]}</td>" for status in shown)
        + "</tr>"
        for severity, counts in tally(found).items()
    )
    return f"<h2>Verdicts</h2><table><tr><th>severity</th>{head}</tr>{rows}</table>"


def _row(verdict: RequirementVerdict, columns: list[tuple[str, str]]) -> str:
    requirement = verdict.requirement
    cells = [
        f"<td><b>{escape(requirement.id)}</b><br>{escape(requirement.text)}"
        f"<br><small>{escape(requirement.source)}</small></td>",
        f"<td>{escape(requirement.severity.value)}</td>",
        f'<td class="{_css(verdict.status)}">{escape(verdict.status.value)}</td>',
    ]
    for column in columns:
        tests = [test for test in verdict.tests if _column(test) == column]
        cells.append(_cell(tests))
    return "<tr>" + "".join(cells) + "</tr>"


def _cell(tests: list[TestOutcome]) -> str:
    if not tests:
        return '<td class="not-run"></td>'
    order = (Status.FAILED, Status.ERROR, Status.PASSED, Status.SKIPPED)
    worst = next(status for status in order if any(test.status is status for test in tests))
    lines = "".join(
        f"<li><code>{escape(test.nodeid)}</code>: {escape(test.status.value)}"
        + (f"<br><small>{escape(test.message.splitlines()[0])}</small>" if test.message else "")
        + "</li>"
        for test in tests
    )
    count = f"{sum(test.status is worst for test in tests)} of {len(tests)}"
    return (
        f'<td class="{_css(worst)}"><details><summary>{escape(worst.value)} ({count})</summary>'
        f"<ul>{lines}</ul></details></td>"
    )


def _css(status: Status) -> str:
    return status.value.replace(" ", "-")
