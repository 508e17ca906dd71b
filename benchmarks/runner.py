"""Runs the benchmarks, prints each figure as it comes, and writes RESULTS.md.

Usage::

    python -m benchmarks                                 # all six, default subset suite
    python -m benchmarks --only protocol browser         # some of them
    python -m benchmarks --suite-paths scenarios         # figure 1 and 5 on the whole suite
    python -m benchmarks --repeat 30 --results /tmp/r.md
    python -m benchmarks --only speedup --turns 3       # each side of figure 1 three times

Benchmarks: ``speedup`` (suite wall time, 1 vs N workers), ``browser`` (harness vs bare
Playwright per scenario), ``protocol`` (harness vs bare requests per scenario),
``throughput`` (logins per second vs the argon2 limit), ``memory`` (peak RSS of a run;
measured during ``speedup``'s N-worker run when both are asked for), ``replay`` (one second
factor sent twice at once, round after round: never accepted twice). Exit status: 0 when every
benchmark asked for was measured, 1 when one could not be, 2 for a bad option. A target not
met does not change it: the figures are reported, never asserted.
"""

from __future__ import annotations

import argparse
import inspect
import shlex
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks import (
    browser_overhead,
    login_throughput,
    machine,
    protocol_overhead,
    replay,
    speedup,
)
from benchmarks.figures import Figure
from benchmarks.results import Section, render

NAMES = ("speedup", "browser", "protocol", "throughput", "memory", "replay")
TITLES = {
    "speedup": "1. Suite wall time, 1 worker vs N workers",
    "browser": "2. Harness overhead per browser scenario",
    "protocol": "3. Harness overhead per protocol scenario",
    "throughput": "4. Login throughput vs the password-hashing limit",
    "memory": "5. Peak memory of a run",
    "replay": "6. One second factor sent twice at once, round after round",
}
MODULES = {
    "speedup": speedup,
    "browser": browser_overhead,
    "protocol": protocol_overhead,
    "throughput": login_throughput,
    "memory": speedup,
    "replay": replay,
}
DEFAULT_RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def at_least_one(text: str) -> int:
    """An argparse type: a whole number, 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks", description="Measure the harness; write RESULTS.md."
    )
    p.add_argument(
        "--only",
        nargs="+",
        choices=NAMES,
        metavar="NAME",
        help=f"run only these ({', '.join(NAMES)})",
    )
    p.add_argument(
        "--suite-paths",
        nargs="+",
        default=list(speedup.DEFAULT_SUITE),
        metavar="PATH",
        help="what figures 1 and 5 run (default: %(default)s)",
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=None,
        metavar="N",
        help="scenarios timed per side in figures 2 and 3 (default 10 and 20)",
    )
    p.add_argument(
        "--duration",
        type=float,
        default=20.0,
        metavar="SECONDS",
        help="load time of figure 4 (default %(default)s)",
    )
    p.add_argument(
        "--rounds",
        type=int,
        default=replay.ROUNDS,
        metavar="N",
        help="rounds of each race of figure 6 on the honest servers (default %(default)s)",
    )
    p.add_argument(
        "--workers", type=int, default=None, help="N of figure 1 (default: the machine's cores)"
    )
    p.add_argument(
        "--turns",
        type=at_least_one,
        default=speedup.TURNS,
        metavar="N",
        help="runs of each side of figure 1, in turns (default %(default)s)",
    )
    p.add_argument(
        "--results",
        type=Path,
        default=DEFAULT_RESULTS,
        metavar="FILE",
        help="where to write the results (default benchmarks/RESULTS.md)",
    )
    return p


def method_notes(module: Any) -> str:
    """How a benchmark measures: its module docstring, as a paragraph of RESULTS.md."""
    return " ".join((inspect.getdoc(module) or "").split())


def print_figure(figure: Figure) -> None:
    verdict = figure.verdict()
    print(f"  {figure.name}: {figure.shown()}" + (f"   [{verdict}]" if verdict else ""), flush=True)


def run_one(name: str, measure: Callable[[], Any], notes: str) -> Section:
    print(f"\n{TITLES[name]}", flush=True)
    try:
        result = measure()
    except Exception as error:  # one benchmark failing must not stop the rest
        traceback.print_exc()
        message = f"{type(error).__name__}: {error}".splitlines()[0][:300]
        print(f"  not measured: {message}", flush=True)
        return Section(TITLES[name], notes=notes, error=message)
    figures = tuple(result.figures())
    for figure in figures:
        print_figure(figure)
    return Section(TITLES[name], figures, notes=notes)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0) and 2
    chosen = [name for name in NAMES if name in (args.only or NAMES)]
    started = time.perf_counter()
    load_start = machine.load_average()
    described = machine.describe()
    print("Machine:", *described.lines(), sep="\n  ")
    print(f"  Load average at start: {load_start}", flush=True)

    paths = tuple(args.suite_paths)
    suite_note = f"Suite measured: `{' '.join(paths)}`."
    sections: dict[str, Section] = {}
    speedup_result: list[speedup.SpeedupFigures] = []

    def measure_speedup() -> speedup.SpeedupFigures:
        result = speedup.measure(paths, args.workers, "memory" in chosen, args.turns)
        speedup_result.append(result)
        return result

    def measure_memory() -> speedup.MemoryFigures:
        if speedup_result and speedup_result[0].memory is not None:
            return speedup_result[0].memory
        return speedup.measure_memory(paths, args.workers)

    measures: dict[str, Callable[[], Any]] = {
        "speedup": measure_speedup,
        "browser": lambda: browser_overhead.measure(args.repeat or 10),
        "protocol": lambda: protocol_overhead.measure(args.repeat or 20),
        "throughput": lambda: login_throughput.measure(args.duration),
        "memory": measure_memory,
        "replay": lambda: replay.measure(args.rounds),
    }
    for name in chosen:
        notes = method_notes(MODULES[name])
        if name in ("speedup", "memory"):
            notes = f"{suite_note} {notes}"
        sections[name] = run_one(name, measures[name], notes)

    load_end = machine.load_average()
    print(f"\nLoad average at end: {load_end}")
    command = "python -m benchmarks" + (" " + shlex.join(argv) if argv else "")
    text = render(
        described,
        [sections[n] for n in chosen],
        load_start,
        load_end,
        command,
        time.perf_counter() - started,
    )
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(text, encoding="utf-8")
    print(f"Results written to {args.results}")
    return 1 if any(section.error for section in sections.values()) else 0
