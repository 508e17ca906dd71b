"""A run's results, read back from allure-pytest's result files: what each test checked, how it
ended, what it did, and what it left as evidence; then each requirement's verdict.

The Allure results are the one record every report is made from (the summary, the matrix, the
end of ``harness run``), so the reports agree, and ``harness report`` can rebuild them later.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from harness.catalogue import Catalogue, Requirement, Severity
from harness.errors import HarnessError

AUTHENTICATOR_PARAMETERS = ("keyed_page", "key_kind")
"""The scenario parameters that name the authenticator a test runs with, in order of
preference (a bridged key's page names the bridge and the key)."""


class Status(enum.StrEnum):
    """How a test, or a requirement, came out. ``error`` is Allure's ``broken``: the test could
    not finish for another reason than a failed check (a harness error, a contract mismatch)."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"
    NOT_RUN = "not run"


@dataclass(frozen=True)
class Step:
    title: str
    status: str
    depth: int


@dataclass(frozen=True)
class Attachment:
    name: str
    path: Path
    """Where the file is, in the results folder."""
    media_type: str


@dataclass(frozen=True)
class TestOutcome:
    """One test of the run.

    :param nodeid: pytest's id, to run it again.
    :param message: why it failed, erred or was skipped (first lines); empty when it passed.
    :param steps: the Allure steps it went through, in order, nested by ``depth``.
    """

    __test__ = False  # a record of a test, not a test class

    nodeid: str
    status: Status
    message: str
    description: str
    requirements: tuple[str, ...]
    suite: str
    authenticator: str
    browser: str
    steps: tuple[Step, ...]
    attachments: tuple[Attachment, ...]


@dataclass(frozen=True)
class RequirementVerdict:
    """A requirement's outcome in this run: failed when any of its tests failed, error when
    none failed but one could not finish, passed when one passed and none went wrong, skipped
    when every test was skipped, not run when none was selected."""

    requirement: Requirement
    status: Status
    tests: tuple[TestOutcome, ...]


_ALLURE_STATUS = {
    "passed": Status.PASSED,
    "failed": Status.FAILED,
    "broken": Status.ERROR,
    "skipped": Status.SKIPPED,
}


def load_outcomes(results: Path) -> list[TestOutcome]:
    """Every test result in an allure-pytest results folder, sorted by node id.

    :raises HarnessError: the folder is missing, or a result file is not Allure's JSON.
    """
    if not results.is_dir():
        raise HarnessError(f"no Allure results in {results}")
    outcomes = []
    for path in sorted(results.glob("*-result.json")):
        try:
            outcomes.append(_outcome(json.loads(path.read_text(encoding="utf-8")), results))
        except (ValueError, KeyError, TypeError) as error:
            raise HarnessError(f"{path} is not an Allure result: {error}") from None
    return sorted(outcomes, key=lambda outcome: outcome.nodeid)


def verdicts(catalogue: Catalogue, outcomes: Iterable[TestOutcome]) -> list[RequirementVerdict]:
    """Each requirement of ``catalogue``, in its order, with the tests of the run that check it."""
    tests: dict[str, list[TestOutcome]] = {}
    for outcome in outcomes:
        for requirement_id in outcome.requirements:
            tests.setdefault(requirement_id, []).append(outcome)
    return [
        RequirementVerdict(requirement, _verdict(tests.get(requirement.id, [])), tuple(checks))
        for requirement in catalogue
        for checks in [tests.get(requirement.id, [])]
    ]


def tally(found: Iterable[RequirementVerdict]) -> dict[Severity, dict[Status, int]]:
    """How many requirements of each severity came out each way."""
    counts = {severity: dict.fromkeys(Status, 0) for severity in Severity}
    for verdict in found:
        counts[verdict.requirement.severity][verdict.status] += 1
    return counts


def _verdict(tests: list[TestOutcome]) -> Status:
    statuses = {test.status for test in tests}
    for status in (Status.FAILED, Status.ERROR, Status.PASSED, Status.SKIPPED):
        if status in statuses:
            return status
    return Status.NOT_RUN


def _outcome(result: dict, folder: Path) -> TestOutcome:
    labels: dict[str, list[str]] = {}
    for label in result.get("labels", []):
        labels.setdefault(label["name"], []).append(label["value"])
    parameters = {p["name"]: p["value"].strip("'") for p in result.get("parameters", [])}
    details = result.get("statusDetails") or {}
    return TestOutcome(
        nodeid=_nodeid(result),
        status=_ALLURE_STATUS.get(result.get("status", ""), Status.ERROR),
        message=(details.get("message") or "").strip(),
        description=(result.get("description") or "").strip(),
        requirements=tuple(labels.get("requirement", [])),
        suite=(labels.get("feature") or [""])[0],
        authenticator=next(
            (parameters[name] for name in AUTHENTICATOR_PARAMETERS if name in parameters), ""
        ),
        browser=parameters.get("browser_name", ""),
        steps=tuple(_steps(result.get("steps", []), 0)),
        attachments=tuple(_attachments(result, folder)),
    )


def _nodeid(result: dict) -> str:
    """pytest's node id, from Allure's title path (folders, file, classes) and test name."""
    path = result.get("titlePath") or []
    files = [index for index, part in enumerate(path) if part.endswith(".py")]
    if not files:
        return result.get("fullName") or result["name"]
    where = files[-1]
    return "::".join(["/".join(path[: where + 1]), *path[where + 1 :], result["name"]])


def _steps(steps: list[dict], depth: int) -> Iterator[Step]:
    for step in steps:
        yield Step(step.get("name", ""), step.get("status", ""), depth)
        yield from _steps(step.get("steps", []), depth + 1)


def _attachments(node: dict, folder: Path) -> Iterator[Attachment]:
    for attachment in node.get("attachments", []):
        yield Attachment(attachment["name"], folder / attachment["source"], attachment["type"])
    for step in node.get("steps", []):
        yield from _attachments(step, folder)
