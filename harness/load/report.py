"""The load run's report: each step's requests, failures, latency percentiles and requests per
second, then the errors grouped by message; printed, and written as ``summary.md`` and
``stats.json``.

Its input is the final statistics the locustfile writes as Locust quits (the file
:data:`RESULTS_VARIABLE` names), read here without importing Locust.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from harness.load.flows import step_names

RESULTS_VARIABLE = "HARNESS_LOAD_RESULTS"
"""Environment variable naming the file the locustfile writes its final statistics to."""
CSV_PREFIX = "locust"
"""Locust's own CSV files in the report folder: ``locust_stats.csv`` and the others."""
PERCENTILES = (50, 90, 95, 99)


@dataclass(frozen=True)
class StepStats:
    """One step's figures; latencies in milliseconds (percentiles as Locust rounds them: to
    two significant digits above 100 ms)."""

    name: str
    requests: int
    failures: int
    p50: float
    p90: float
    p95: float
    p99: float
    max: float
    per_second: float

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StepStats:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})

    def cells(self, name: str | None = None) -> tuple[str, ...]:
        return (
            name or self.name,
            str(self.requests),
            str(self.failures),
            *(f"{value:.0f}" for value in (self.p50, self.p90, self.p95, self.p99, self.max)),
            f"{self.per_second:.2f}",
        )


HEADER = ("step", "requests", "failures", "p50", "p90", "p95", "p99", "max", "req/s")


@dataclass(frozen=True)
class ErrorGroup:
    """One error message, how often it came, and at which steps."""

    message: str
    occurrences: int
    steps: tuple[str, ...]


@dataclass(frozen=True)
class LoadReport:
    """What a load run measured."""

    target: str
    users: int
    spawn_rate: float
    seconds: int
    journeys: tuple[str, ...]
    steps: tuple[StepStats, ...]
    total: StepStats | None
    errors: tuple[ErrorGroup, ...]

    @property
    def failures(self) -> int:
        return sum(step.failures for step in self.steps)

    @classmethod
    def from_results(
        cls,
        results: dict[str, Any],
        *,
        target: str,
        users: int,
        spawn_rate: float,
        seconds: int,
        journeys: Sequence[str],
    ) -> LoadReport:
        """The report of the locustfile's final statistics ``results``.

        Steps come in journey order, then step order; steps that did not happen (new recovery
        codes in a short run) are left out, and steps no journey names (a user that could not
        start) come last.
        """
        stats = {row["name"]: StepStats.from_json(row) for row in results.get("steps", [])}
        order = step_names(journeys)
        ordered = [stats[name] for name in order if name in stats]
        ordered += [stats[name] for name in sorted(stats) if name not in order]
        total = results.get("total")
        return cls(
            target=target,
            users=users,
            spawn_rate=spawn_rate,
            seconds=seconds,
            journeys=tuple(journeys),
            steps=tuple(ordered),
            total=StepStats.from_json(total) if total and total["requests"] else None,
            errors=group_errors(results),
        )

    @classmethod
    def read(cls, path: Path, **run: Any) -> LoadReport:
        """The report of the final statistics in ``path``."""
        return cls.from_results(json.loads(path.read_text(encoding="utf-8")), **run)

    def rows(self) -> list[tuple[str, ...]]:
        rows = [step.cells() for step in self.steps]
        if self.total is not None:
            rows.append(self.total.cells("all steps"))
        return rows

    def table(self) -> str:
        """The steps as a plain-text table, then the errors grouped by message."""
        lines = [HEADER, *self.rows()]
        widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]
        text = [
            "  ".join(
                cell.ljust(width) if i == 0 else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(line, widths, strict=True))
            )
            for line in lines
        ]
        text.insert(1, "-" * len(text[0]))
        text += ["(latencies in ms)", "", *self._error_lines()]
        return "\n".join(text)

    def _error_lines(self) -> list[str]:
        if not self.errors:
            return ["errors: none"]
        lines = [f"errors: {sum(error.occurrences for error in self.errors)}"]
        for error in self.errors:
            lines.append(f"  {error.occurrences}x {error.message}")
            lines.append(f"      at {', '.join(error.steps)}")
        return lines

    def markdown(self) -> str:
        """The text of ``summary.md``."""
        lines = [
            "# Load run",
            "",
            f"- target: {self.target}",
            f"- users: {self.users}, started at {self.spawn_rate:g} per second,"
            f" for {self.seconds} s",
            f"- journeys: {', '.join(self.journeys)}",
            "",
            "## Steps (latencies in ms)",
            "",
            f"| {' | '.join(HEADER)} |",
            "|---|" + "---:|" * (len(HEADER) - 1),
            *(f"| {' | '.join(row)} |" for row in self.rows()),
            "",
            "## Errors",
            "",
        ]
        if not self.errors:
            lines.append("None.")
        for error in self.errors:
            lines.append(f"- {error.occurrences}x `{error.message}` at {', '.join(error.steps)}")
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, Any]:
        """The content of ``stats.json``."""
        return {
            "target": self.target,
            "users": self.users,
            "spawn_rate": self.spawn_rate,
            "seconds": self.seconds,
            "journeys": list(self.journeys),
            "latency_unit": "ms",
            "steps": [asdict(step) for step in self.steps],
            "total": None if self.total is None else asdict(self.total),
            "errors": [asdict(error) for error in self.errors],
        }

    def write(self, folder: Path) -> None:
        """Write ``summary.md`` and ``stats.json`` into ``folder``."""
        (folder / "summary.md").write_text(self.markdown(), encoding="utf-8")
        (folder / "stats.json").write_text(
            json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8"
        )


def group_errors(results: dict[str, Any]) -> tuple[ErrorGroup, ...]:
    """The steps' failures and the exceptions Locust users raised, grouped by message, most
    frequent first."""
    counts: dict[str, int] = {}
    steps: dict[str, list[str]] = {}
    for row in results.get("errors", []):
        message = row["error"]
        counts[message] = counts.get(message, 0) + row["occurrences"]
        if row["name"] not in steps.setdefault(message, []):
            steps[message].append(row["name"])
    for row in results.get("exceptions", []):
        message = f"a Locust user raised {row['message']}"
        counts[message] = counts.get(message, 0) + row["count"]
        steps.setdefault(message, ["(outside any step)"])
    return tuple(
        ErrorGroup(message, counts[message], tuple(steps[message]))
        for message in sorted(counts, key=lambda m: (-counts[m], m))
    )
