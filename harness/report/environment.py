"""What a run ran against and with, written where Allure reads it (``environment.properties``)
and read back by the reports; and the failure categories Allure groups results by
(``categories.json``)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

PROPERTIES = "environment.properties"
CATEGORIES = [
    {
        "name": "Security failures",
        "description": "a check of a security requirement failed: report it privately",
        "matchedStatuses": ["failed"],
        "traceRegex": r"[\s\S]*\[security\][\s\S]*",
    },
    {
        "name": "Usability failures",
        "matchedStatuses": ["failed"],
        "traceRegex": r"[\s\S]*\[usability\][\s\S]*",
    },
    {"name": "Functional failures", "matchedStatuses": ["failed"]},
    {
        "name": "Harness errors",
        "description": "the test could not finish: the harness, the target's contract or the"
        " environment went wrong, not a checked behaviour",
        "matchedStatuses": ["broken"],
    },
]
"""Allure's categories: the first that matches a result names it. A failure's trace starts with
the requirements it checks and their severities in brackets (the plugin writes that line). The
patterns are both Java's (Allure 2, whole-text match) and JavaScript's (Allure 3)."""


@dataclass(frozen=True)
class RunEnvironment:
    """The run's facts, as a tester's bug report states them."""

    target: str
    profile: str
    policy: str
    browser: str
    authenticator: str
    harness_version: str
    started: str
    command: str
    shard: str = "all"
    """``I/N`` for one shard of a run, ``all`` for a whole run, or the shards merged."""

    def write(self, results: Path) -> None:
        """Write ``environment.properties`` and ``categories.json`` into the results folder."""
        results.mkdir(parents=True, exist_ok=True)
        lines = [f"{name}={_escaped(value)}" for name, value in asdict(self).items()]
        (results / PROPERTIES).write_text("\n".join(lines) + "\n", encoding="utf-8")
        (results / "categories.json").write_text(json.dumps(CATEGORIES, indent=2) + "\n")

    @classmethod
    def read(cls, results: Path) -> RunEnvironment:
        """The environment a run wrote; fields it lacks read as ``unknown``."""
        values = {}
        path = results / PROPERTIES
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                name, _, value = line.partition("=")
                values[name.strip()] = value.strip().replace("\\\\", "\\")
        return cls(**{field.name: values.get(field.name, "unknown") for field in fields(cls)})


def _escaped(value: str) -> str:
    # Java properties: a backslash escapes; keep values on one line.
    return value.replace("\\", "\\\\").replace("\n", " ")
