"""``benchmarks/RESULTS.md``: the machine, then each benchmark's figures with how they were
measured and their targets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.figures import Figure
from benchmarks.machine import Machine


@dataclass(frozen=True)
class Section:
    """One benchmark's part of the results: its figures, or why it has none."""

    title: str
    figures: tuple[Figure, ...] = ()
    notes: str = ""
    error: str = ""


def render(
    machine: Machine,
    sections: Sequence[Section],
    load_start: tuple[float, float, float],
    load_end: tuple[float, float, float],
    command: str,
    seconds: float,
) -> str:
    def load(values: tuple[float, float, float]) -> str:
        return " / ".join(f"{v:.2f}" for v in values)

    out = [
        "# Benchmark results",
        "",
        f"Written by `{command}` (took {seconds / 60:.1f} min). Figures are from one run on the"
        " machine below; they are measurements, not guarantees, and no test asserts them.",
        "",
        "## Machine",
        "",
        *(f"- {line}" for line in machine.lines()),
        f"- Load average (1/5/15 min) at start: {load(load_start)}; at end: {load(load_end)}",
        "",
        "## Summary against targets",
        "",
        "| Figure | Value | Target | Met |",
        "|---|---|---|---|",
    ]
    for section in sections:
        for figure in section.figures:
            if figure.target is not None:
                met = {None: "not measured", True: "yes", False: "**no**"}[figure.met]
                out.append(f"| {figure.name} | {figure.shown()} | {figure.target} | {met} |")
        if section.error:
            out.append(f"| {section.title} | not measured | | {section.error} |")
    for section in sections:
        out += ["", f"## {section.title}", ""]
        if section.error:
            out += [f"Not measured: {section.error}", ""]
        if section.figures:
            out += ["| Figure | Value | How measured | Target |", "|---|---|---|---|"]
            for figure in section.figures:
                out.append(
                    f"| {figure.name} | {figure.shown()} | {figure.how} | {figure.verdict()} |"
                )
        if section.notes:
            out += ["", section.notes]
    return "\n".join(out).rstrip() + "\n"
