"""One run split across machines with ``--shard I/N``, and the shards' reports merged into one."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

from harness.sharding import Shard

PROJECT = Path(__file__).resolve().parents[2]
QUIET = ["-q", "-p", "no:cacheprovider"]

TRIVIAL = """
import pytest

@pytest.mark.requirement("ACCOUNT-REGISTER-01")
@pytest.mark.parametrize("n", range(8))
def test_trivial(n):
    assert n >= 0
"""
"""Eight tests that need no server, each checking one catalogued requirement."""


def harness(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *arguments],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def collected(*options: str) -> set[str]:
    """The node ids pytest collects from the TOTP suite with these options."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "scenarios/totp", "--collect-only", *QUIET, *options],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return {line for line in done.stdout.splitlines() if "::" in line}


class TestShard:
    def test_is_read_as_i_of_n(self) -> None:
        assert Shard.parse("2/4") == Shard(2, 4)
        assert str(Shard(2, 4)) == "2/4"

    @pytest.mark.parametrize("text", ["0/3", "4/3", "2", "1/0", "a/b", "1/2/3"])
    def test_other_forms_are_refused(self, text: str) -> None:
        with pytest.raises(ValueError, match=r"shard|I/N"):
            Shard.parse(text)

    def test_shards_hold_each_test_exactly_once(self) -> None:
        nodeids = [f"scenarios/x/test_{n}.py::test_{n}[{n % 7}]" for n in range(500)]
        shards = [Shard(index, 3) for index in (1, 2, 3)]
        for nodeid in nodeids:
            assert sum(shard.holds(nodeid) for shard in shards) == 1
        sizes = [sum(shard.holds(nodeid) for nodeid in nodeids) for shard in shards]
        assert min(sizes) > 500 / 3 * 0.8, f"shares should be near even: {sizes}"

    def test_a_tests_shard_depends_on_its_id_alone(self) -> None:
        assert Shard(1, 4).holds("a::b") is Shard(1, 4).holds("a::b")
        assert [Shard(i, 4).holds("a::b") for i in range(1, 5)].count(True) == 1


def test_pytest_shards_split_the_collection_without_overlap() -> None:
    everything = collected()
    shards = [collected("--shard", f"{index}/3") for index in (1, 2, 3)]
    assert all(shards), "every shard of the TOTP suite holds tests"
    assert set().union(*shards) == everything
    assert sum(len(shard) for shard in shards) == len(everything)


@pytest.fixture(scope="module")
def shard_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The trivial scenarios run as shards 1/2 and 2/2 by ``harness run``: their folder and
    each shard's report folder."""
    root = tmp_path_factory.mktemp("sharded")
    scenarios = root / "scenarios"
    # A suite of its own under a scenarios/ folder (test ids start there), so the reports
    # name its requirements.
    (scenarios / "trivial").mkdir(parents=True)
    (scenarios / "trivial" / "test_trivial.py").write_text(TRIVIAL)
    folders = []
    for index in (1, 2):
        reports = root / f"reports-{index}"
        run = harness(
            "run",
            f"--scenarios={root}",
            f"--reports={reports}",
            "--workers=1",
            f"--shard={index}/2",
        )
        assert run.returncode == 0, run.stdout + run.stderr
        folders.append((reports / "latest").resolve())
    return root, folders[0], folders[1]


def junit_cases(path: Path) -> list[str]:
    return [case.get("name", "") for case in ElementTree.parse(path).getroot().iter("testcase")]


def test_each_shard_runs_its_share_only(shard_runs) -> None:
    _, first, second = shard_runs
    ran = [junit_cases(first / "junit.xml"), junit_cases(second / "junit.xml")]
    assert all(ran)
    assert sorted(ran[0] + ran[1]) == sorted(f"test_trivial[{n}]" for n in range(8))
    assert "| Shard | 1/2 |" in (first / "summary.md").read_text()


def test_merged_shards_make_one_report_of_the_whole_run(shard_runs, tmp_path: Path) -> None:
    _, first, second = shard_runs
    merged = tmp_path / "merged"
    run = harness("report", str(first), str(second), "--into", str(merged))
    assert run.returncode == 0, run.stdout + run.stderr
    assert sorted(junit_cases(merged / "junit.xml")) == sorted(
        f"test_trivial[{n}]" for n in range(8)
    )
    results = [
        json.loads(path.read_text()) for path in (merged / "allure-results").glob("*-result.json")
    ]
    assert sorted(result["name"] for result in results) == sorted(
        f"test_trivial[{n}]" for n in range(8)
    )
    summary = (merged / "summary.md").read_text()
    assert "| Shard | all 2 merged |" in summary
    assert re.search(r"\| functional \| 1 \| 0 \| 0 \| 0 \|", summary), summary
    assert (merged / "index.html").is_file()


def test_a_missing_shard_is_refused_and_nothing_is_made(shard_runs, tmp_path: Path) -> None:
    _, first, _ = shard_runs
    merged = tmp_path / "merged"
    run = harness("report", str(first), "--into", str(merged))
    assert run.returncode == 2
    assert run.stderr.splitlines() == ["harness: error: shard 2/2 of the run is missing"]
    assert not merged.exists()


def test_a_shard_given_twice_is_refused(shard_runs, tmp_path: Path) -> None:
    _, first, second = shard_runs
    run = harness("report", str(first), str(first), str(second), "--into", str(tmp_path / "m"))
    assert run.returncode == 2
    assert run.stderr.strip().endswith("are both shard 1/2")


def test_several_folders_without_into_are_refused(shard_runs) -> None:
    _, first, second = shard_runs
    run = harness("report", str(first), str(second))
    assert run.returncode == 2
    assert run.stderr.splitlines() == [
        "harness: error: several folders are merged: name the new one with --into"
    ]
