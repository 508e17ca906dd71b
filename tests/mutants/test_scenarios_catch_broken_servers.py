"""Each security scenario fails against a server with exactly that check removed.

The scenarios run in a pytest subprocess against a broken copy of the reference server
(``--reference-server-path``); every scenario a mutant names must fail, not error or skip.
"""

import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from tests.mutants.mutants import MUTANTS, Mutant

PROJECT = Path(__file__).resolve().parents[2]


def outcomes(junit: Path) -> dict[str, str]:
    """Test name -> "passed", "failed", "error" or "skipped", from a JUnit XML file."""
    result = {}
    for case in ElementTree.parse(junit).iter("testcase"):
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}.get(
            kinds[0] if kinds else "", "passed"
        )
        result[case.get("name", "")] = outcome
    return result


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda mutant: mutant.name)
def test_scenarios_fail_against_the_broken_server(mutant: Mutant, tmp_path: Path) -> None:
    server_path = mutant.build(tmp_path / "server")
    junit = tmp_path / "junit.xml"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            *mutant.catches,
            f"--reference-server-path={server_path}",
            *mutant.pytest_args,
            f"--junitxml={junit}",
            "-p",
            "no:cacheprovider",
            "-q",
        ],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert junit.exists(), run.stdout[-2000:] + run.stderr[-2000:]
    seen = outcomes(junit)
    expected = {node.rsplit("::", 1)[1]: "failed" for node in mutant.catches}
    assert {name: seen.get(name, "not run") for name in expected} == expected, run.stdout[-3000:]
