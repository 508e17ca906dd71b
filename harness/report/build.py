"""Turns a run's folder (``allure-results/``, ``junit.xml``, artifacts) into the report people
read: the summaries, the matrix page, and the HTML report at ``index.html``."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from harness.catalogue import Catalogue
from harness.errors import HarnessError
from harness.redaction import known_secrets
from harness.report import allure_html
from harness.report.environment import CATEGORIES, RunEnvironment
from harness.report.matrix import write_matrix
from harness.report.results import RequirementVerdict, Status, load_outcomes, verdicts
from harness.report.scrub import scrub_tree
from harness.report.summary import write_summaries

RESULTS = "allure-results"
TITLE = "Login and 2FA conformance"


@dataclass(frozen=True)
class Report:
    """What a report folder holds once built.

    :param html_note: why ``index.html`` is the matrix page rather than Allure's, if it is.
    """

    folder: Path
    index: Path
    summaries: list[Path]
    """``summary.md``, then ``SECURITY-PRIVATE.md`` when a security requirement failed."""
    verdicts: list[RequirementVerdict]
    html_note: str | None

    @property
    def all_met(self) -> bool:
        """No requirement of the run failed or went unchecked for an error."""
        return not any(v.status in (Status.FAILED, Status.ERROR) for v in self.verdicts)


def build_report(folder: Path, catalogue: Catalogue) -> Report:
    """Build the report of the run in ``folder``; every file in it is scrubbed of the secrets
    this process knows and of those recognisable by their form, last.

    :raises HarnessError: the folder holds no Allure results.
    """
    results = folder / RESULTS
    environment = RunEnvironment.read(results)
    found = verdicts(catalogue, load_outcomes(results))
    summaries = write_summaries(folder, environment, found)
    matrix = write_matrix(folder / "matrix.html", environment, found)
    index, note = _html(folder, results, matrix)
    scrub_tree(folder, known_secrets())
    return Report(folder, index, summaries, found, note)


def _html(folder: Path, results: Path, matrix: Path) -> tuple[Path, str | None]:
    """Allure's HTML report as ``index.html``; the matrix page there instead when Node or the
    Allure CLI is missing or fails, with the reason."""
    index = folder / "index.html"
    if allure_html.allure_command() is None:
        shutil.copyfile(matrix, index)
        return index, "Node.js or Allure's CLI is missing: index.html is the matrix page"
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        try:
            rendered = allure_html.render(
                results, Path(scratch), title=TITLE, categories=CATEGORIES
            )
        except HarnessError as error:
            shutil.copyfile(matrix, index)
            return index, f"Allure's HTML report failed ({error}): index.html is the matrix page"
        # One self-contained file: it alone is kept, at the top of the run's folder.
        rendered.replace(index)
    return index, None
