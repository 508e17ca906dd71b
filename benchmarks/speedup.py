"""Figure 1, the suite's wall time on one worker and on N workers; figure 5, peak memory.

"One worker" is pytest without xdist (``-p no:xdist``): ``-n 1`` would still start a
controller and a worker. N workers is ``-n N --dist=worksteal`` with N the machine's cores.
Each run is a subprocess ``python -m pytest <paths> -p no:cacheprovider -q``, from the
project's folder, timed from start to exit. Each run's process tree is sampled from /proc
every 0.2 s: the CPU time of every process in it (a lower bound: what a process did after its
last sample, and processes living less than 0.2 s, are missed; counted per process, since
Chromium's processes are never waited for by an ancestor of the run, so ``getrusage`` misses
them) and, in the N-worker run, memory (figure 5). Some scenarios sleep (for a fresh TOTP time
step, for an age to pass); on several workers those waits overlap, so the speed-up can exceed
the number of cores. The CPU time bounds the speed-up from above: the N-worker run cannot end
before its CPU time ÷ the cores has passed, so no speed-up passes the 1-worker time ÷ that
(the ceiling). A single worker already keeps more than one core busy much of the time (its
browser, its server and pytest work at once), which is what lowers the ceiling on a 2-core
machine. The runs take turns (1 worker, N workers, 1, N…; ``--turns``, default 2) and each
side's figure is the median of its runs, each turn's own speed-up shown beside it: other work
on the machine weighs on one run more than on another.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.figures import SPEEDUP_TARGET, Figure, format_value, median, ratio
from benchmarks.procmem import TreeSampler

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# About 1.5 minutes on one worker of an idle 2-core machine: the TOTP and recovery-code suites
# (protocol level) and the browser journeys and WebAuthn browser scenarios (so that browsers
# count in figure 5). `--suite-paths scenarios` asks for the whole default suite.
DEFAULT_SUITE = (
    "scenarios/totp",
    "scenarios/recovery_codes",
    "scenarios/journeys/test_journeys_browser.py",
    "scenarios/webauthn/test_webauthn_browser.py",
)
# The two sides' times move with whatever else the machine does (on this one, from run to run
# of the whole suite, the 1-worker time by a fifth): each side runs twice, in turns.
TURNS = 2
_SUMMARY = re.compile(r"^=*\s*(\d+ (passed|failed|error|skipped).*?)\s*=*$", re.MULTILINE)


@dataclass(frozen=True)
class SuiteRun:
    workers: int  # 0: no xdist
    seconds: float
    returncode: int
    summary: str
    cpu_seconds: float | None = None

    @property
    def cores_busy(self) -> float | None:
        """The cores the run kept busy on average: its CPU time ÷ its wall time."""
        return ratio(self.cpu_seconds, self.seconds)


@dataclass(frozen=True)
class MemoryFigures:
    """Peaks of RSS sums over the N-worker run, MiB."""

    harness_mib: float
    browsers_mib: float
    servers_mib: float
    total_mib: float
    samples: int
    most_processes: int
    interval: float

    def figures(self) -> list[Figure]:
        how = (
            f"{self.samples} samples of /proc VmRSS every {self.interval} s over the N-worker run's"
            f" process tree (up to {self.most_processes} processes), summed per kind; peak of each"
            " sum. RSS counts shared pages in every process, so sums overstate what is shared"
            " (Chromium's processes most)"
        )
        return [
            Figure(
                "peak memory: harness (pytest, xdist workers, Playwright driver)",
                self.harness_mib,
                "MiB",
                how,
            ),
            Figure("peak memory: browsers (Chromium processes)", self.browsers_mib, "MiB", how),
            Figure("peak memory: bundled servers", self.servers_mib, "MiB", how),
            Figure("peak memory: whole run (peak of the total)", self.total_mib, "MiB", how),
        ]


@dataclass(frozen=True)
class SpeedupFigures:
    """The suite's runs on one worker and on N, taken in turns (1, N, 1, N…)."""

    paths: tuple[str, ...]
    workers: int
    singles: tuple[SuiteRun, ...]
    parallels: tuple[SuiteRun, ...]
    memory: MemoryFigures | None = None
    cores: int = os.cpu_count() or 1

    @property
    def single_seconds(self) -> float | None:
        return median([run.seconds for run in self.singles])

    @property
    def parallel_seconds(self) -> float | None:
        return median([run.seconds for run in self.parallels])

    @property
    def speedup(self) -> float | None:
        return ratio(self.single_seconds, self.parallel_seconds)

    @property
    def pair_speedups(self) -> list[float | None]:
        """Each turn's own speed-up: its 1-worker time ÷ the N-worker time that followed."""
        turns = zip(self.singles, self.parallels, strict=True)
        return [ratio(single.seconds, parallel.seconds) for single, parallel in turns]

    @property
    def ceiling(self) -> float | None:
        """The most speed-up the N-worker runs' CPU time allows on this machine's cores."""
        cpu = median([run.cpu_seconds for run in self.parallels if run.cpu_seconds is not None])
        return ratio(self.single_seconds, ratio(cpu, self.cores))

    def figures(self) -> list[Figure]:
        suite = " ".join(self.paths)
        command = f"python -m pytest {suite} -p no:cacheprovider -q"
        single, parallel = self.singles[-1], self.parallels[-1]
        turns = len(self.singles)
        return [
            Figure(
                f"suite wall time, 1 worker ({single.summary})",
                self.single_seconds,
                "s",
                f"`{command} -p no:xdist`, median of {turns} run(s): {_runs(self.singles)}",
            ),
            Figure(
                f"suite wall time, {self.workers} workers ({parallel.summary})",
                self.parallel_seconds,
                "s",
                f"`{command} -n {self.workers} --dist=worksteal`, median of {turns} run(s):"
                f" {_runs(self.parallels)}",
            ),
            Figure(
                f"speed-up with {self.workers} workers",
                self.speedup,
                "x",
                "median 1-worker time ÷ median N-worker time, all runs in this benchmark run;"
                " each turn's own: "
                + ", ".join(format_value(value, "x") for value in self.pair_speedups),
                SPEEDUP_TARGET,
            ),
            Figure(
                "cores busy on average, 1 worker",
                median([r.cores_busy for r in self.singles if r.cores_busy is not None]),
                "x",
                f"CPU time ÷ wall time of the 1-worker runs ({_cpu(self.singles)} of CPU)",
            ),
            Figure(
                f"cores busy on average, {self.workers} workers",
                median([r.cores_busy for r in self.parallels if r.cores_busy is not None]),
                "x",
                f"CPU time ÷ wall time of the N-worker runs ({_cpu(self.parallels)} of CPU)",
            ),
            Figure(
                f"speed-up ceiling set by CPU time on {self.cores} cores",
                self.ceiling,
                "x",
                "median 1-worker time ÷ (median N-worker CPU time ÷ cores): no N-worker run on"
                " this machine can go faster than its CPU time allows",
            ),
        ]


def _runs(runs: Sequence[SuiteRun]) -> str:
    """ "331.9 s (exit 0), 346.8 s (exit 0)" """
    return ", ".join(f"{run.seconds:.1f} s (exit {run.returncode})" for run in runs)


def _cpu(runs: Sequence[SuiteRun]) -> str:
    return ", ".join(_seconds(run.cpu_seconds) for run in runs)


def _seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} s"


def summary_of(output: str) -> str:
    """pytest's last summary line ("120 passed, 3 skipped in 95.1s"), without the time."""
    found = _SUMMARY.findall(output)
    if not found:
        return "no summary"
    return re.sub(r"\s+in [\d.]+s.*$", "", found[-1][0])


def pytest_command(paths: Sequence[str], workers: int) -> list[str]:
    xdist = ["-p", "no:xdist"] if workers == 0 else ["-n", str(workers), "--dist=worksteal"]
    return [sys.executable, "-m", "pytest", *paths, "-p", "no:cacheprovider", "-q", *xdist]


def run_suite(
    paths: Sequence[str], workers: int, sample_interval: float = 0.2
) -> tuple[SuiteRun, TreeSampler]:
    """Run the suite once, sampling its process tree every ``sample_interval`` seconds."""
    command = pytest_command(paths, workers)
    print(f"  running: {' '.join(command[1:])}", flush=True)
    start = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    with TreeSampler(process.pid, sample_interval) as sampler:
        output, _ = process.communicate()
    seconds, cpu = time.perf_counter() - start, sampler.cpu_seconds
    print(
        f"  ... {seconds:.1f} s ({cpu:.0f} s of CPU), exit {process.returncode}:"
        f" {summary_of(output)}",
        flush=True,
    )
    return SuiteRun(workers, seconds, process.returncode, summary_of(output), cpu), sampler


def measure(
    paths: Sequence[str] = DEFAULT_SUITE,
    workers: int | None = None,
    memory: bool = True,
    turns: int = TURNS,
) -> SpeedupFigures:
    """``turns`` times: the suite on one worker, then on N; memory from the first N-worker
    run."""
    workers = workers or os.cpu_count() or 1
    singles, parallels, samplers = [], [], []
    for _ in range(turns):
        single, _ = run_suite(paths, 0)
        parallel, sampler = run_suite(paths, workers)
        singles.append(single)
        parallels.append(parallel)
        samplers.append(sampler)
    return SpeedupFigures(
        tuple(paths),
        workers,
        tuple(singles),
        tuple(parallels),
        memory_of(samplers[0]) if memory else None,
    )


def measure_memory(
    paths: Sequence[str] = DEFAULT_SUITE, workers: int | None = None
) -> MemoryFigures:
    """Figure 5 alone: one N-worker run, sampled."""
    workers = workers or os.cpu_count() or 1
    _, sampler = run_suite(paths, workers)
    return memory_of(sampler)


def memory_of(sampler: TreeSampler) -> MemoryFigures:
    peaks, mib = sampler.peaks, 1024.0
    return MemoryFigures(
        peaks.by_kind["harness"] / mib,
        peaks.by_kind["browsers"] / mib,
        peaks.by_kind["servers"] / mib,
        peaks.total / mib,
        peaks.samples,
        peaks.most_processes,
        sampler.interval,
    )
