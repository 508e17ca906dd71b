"""How a scenario is labelled in the Allure report: the requirements it checks, its feature (the
suite), one story per requirement, and a severity from the catalogue's."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest

from harness.catalogue import Requirement, Severity

EPIC = "Login and two-factor authentication"
ALLURE_SEVERITY = {
    Severity.SECURITY: "critical",
    Severity.FUNCTIONAL: "normal",
    Severity.USABILITY: "minor",
}
"""Allure's severity for each of the catalogue's (Allure orders blocker > critical > normal >
minor > trivial)."""


def suite_of(nodeid: str) -> str | None:
    """The suite a test belongs to: its folder under ``scenarios/`` (``totp``, ``webauthn``…);
    None for a test elsewhere."""
    parts = PurePosixPath(nodeid.split("::")[0]).parts
    if "scenarios" not in parts[:-1]:
        return None
    index = parts.index("scenarios")
    return parts[index + 1] if index + 2 < len(parts) else None


def allure_marks(requirements: tuple[Requirement, ...], suite: str) -> list[pytest.MarkDecorator]:
    """allure-pytest's label markers for a test of ``suite`` checking ``requirements``."""
    marks = [
        _label("epic", EPIC),
        _label("feature", suite),
        *(_label("story", f"{r.id}: {r.text}") for r in requirements),
        *(_label("requirement", r.id) for r in requirements),
    ]
    severities = {r.severity for r in requirements}
    marks += [_label("tag", severity.value) for severity in sorted(severities)]
    if severities:
        worst = min(severities, key=list(Severity).index)
        marks.append(_label("severity", ALLURE_SEVERITY[worst]))
    return marks


def _label(kind: str, value: str) -> pytest.MarkDecorator:
    # allure-pytest reads labels from its own `allure_label` marker (allure.label makes the same).
    return pytest.mark.allure_label(value, label_type=kind)
