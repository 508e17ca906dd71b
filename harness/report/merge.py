"""The shards of one run (``harness run --shard I/N`` on N machines) put back together: their
Allure results, JUnit files and artifacts in one folder, from which the report is built.

Nothing is merged unless the folders are exactly the N shards of one run: each shard once,
none missing, all with the same target profile, policy, authenticators and harness version.
The merged folder is new; the shards' folders are only read.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from xml.etree import ElementTree

from harness.errors import HarnessError
from harness.report.build import RESULTS
from harness.report.environment import RunEnvironment
from harness.sharding import Shard

SAME_IN_EVERY_SHARD = ("profile", "policy", "authenticator", "harness_version")
"""What the shards of one run share; the target may differ (a bundled server per machine)."""


class MergeError(HarnessError):
    """The folders are not the shards of one run, or the merged folder cannot be made."""


def merge_shards(shards: list[Path], into: Path) -> RunEnvironment:
    """Copy the shards' results into the new folder ``into``; its run environment.

    :raises MergeError: a folder is not a shard's, a shard is missing or given twice, the
        shards differ in what they share, or ``into`` exists already.
    """
    environments = [_environment_of(folder) for folder in shards]
    _check_one_run(shards, environments)
    if into.exists():
        raise MergeError(f"{into} exists already: name a new folder to merge into")
    into.mkdir(parents=True)
    try:
        for folder in shards:
            _copy_tree(folder / RESULTS, into / RESULTS)
            if (folder / "artifacts").is_dir():
                _copy_tree(folder / "artifacts", into / "artifacts")
        _merge_junit([folder / "junit.xml" for folder in shards], into / "junit.xml")
    except BaseException:
        shutil.rmtree(into)  # no half-merged folder is left to be taken for a report
        raise
    merged = replace(
        environments[0],
        started=min(environment.started for environment in environments),
        command=" ; ".join(environment.command for environment in environments),
        shard=f"all {len(shards)} merged",
    )
    merged.write(into / RESULTS)
    return merged


def _environment_of(folder: Path) -> RunEnvironment:
    if not (folder / RESULTS).is_dir():
        raise MergeError(f"{folder} holds no {RESULTS}/: it is not a run's folder")
    return RunEnvironment.read(folder / RESULTS)


def _check_one_run(shards: list[Path], environments: list[RunEnvironment]) -> None:
    parts: dict[Shard, Path] = {}
    for folder, environment in zip(shards, environments, strict=True):
        try:
            shard = Shard.parse(environment.shard)
        except ValueError:
            raise MergeError(f"{folder} is a whole run, not a shard (no --shard I/N)") from None
        if shard in parts:
            raise MergeError(f"{parts[shard]} and {folder} are both shard {shard}")
        parts[shard] = folder
    counts = {shard.count for shard in parts}
    if len(counts) > 1:
        raise MergeError(f"the shards split runs in different numbers: {sorted(counts)}")
    count = counts.pop()
    missing = [
        f"{index}/{count}" for index in range(1, count + 1) if Shard(index, count) not in parts
    ]
    if missing:
        raise MergeError(f"shard {', '.join(missing)} of the run is missing")
    for name in SAME_IN_EVERY_SHARD:
        values = sorted({getattr(environment, name) for environment in environments})
        if len(values) > 1:
            raise MergeError(f"the shards differ in {name} ({' vs '.join(values)}): not one run")


def _copy_tree(source: Path, target: Path) -> None:
    """Copy ``source`` into ``target``; a file both shards wrote is one run's only if it is the
    same (Allure names results by UUID, artifacts by test id)."""
    for path in sorted(source.rglob("*")):
        destination = target / path.relative_to(source)
        if path.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
        elif destination.name in ("environment.properties", "categories.json"):
            continue  # written once for the merged run
        elif destination.exists():
            if destination.read_bytes() != path.read_bytes():
                raise MergeError(f"two shards wrote {destination.relative_to(target.parent)}")
        else:
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)


def _merge_junit(files: list[Path], target: Path) -> None:
    """One ``<testsuites>`` holding each shard's ``<testsuite>``; no file if no shard wrote one."""
    merged = ElementTree.Element("testsuites")
    for path in files:
        if not path.is_file():
            continue
        try:
            root = ElementTree.parse(path).getroot()
        except ElementTree.ParseError as error:
            raise MergeError(f"{path} is not JUnit XML: {error}") from None
        suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
        merged.extend(suites)
    if len(merged):
        ElementTree.ElementTree(merged).write(target, encoding="utf-8", xml_declaration=True)
