"""Resident memory of a process tree, sampled from /proc (no psutil needed).

Each sample reads every process's parent and ``VmRSS`` once, finds the tree under the root
process, and sums the RSS by kind: the harness (pytest and its xdist workers, Playwright's
driver), the browsers (Chromium's processes) and the bundled servers. RSS counts shared pages
once per process, so the browser sum, many processes sharing one binary and its libraries, is
an upper bound on what the browsers really hold.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")
KINDS = ("harness", "browsers", "servers")


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    ppid: int
    command: str
    rss_kib: int
    cpu_seconds: float = 0.0  # its own user + system time so far, its children's left out
    started: int = 0  # clock ticks after boot: with the pid, names one process for good


def read_process(pid: int, proc: Path = PROC) -> ProcessInfo | None:
    """One process's parent, command line and RSS; None when it has gone or is unreadable."""
    try:
        stat = (proc / str(pid) / "stat").read_text()
        status = (proc / str(pid) / "status").read_text()
        command = (
            (proc / str(pid) / "cmdline")
            .read_bytes()
            .replace(b"\0", b" ")
            .decode("utf-8", "replace")
        )
    except OSError:
        return None
    # The second field, the command name, is in parentheses and may hold spaces.
    fields = stat[stat.rindex(")") + 2 :].split()
    ppid = int(fields[1])
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    rss = 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
            break
    name = stat[stat.index("(") + 1 : stat.rindex(")")]
    return ProcessInfo(pid, ppid, command.strip() or name, rss, cpu, int(fields[19]))


def process_table(proc: Path = PROC) -> dict[int, ProcessInfo]:
    table = {}
    for entry in proc.iterdir():
        if entry.name.isdigit():
            info = read_process(int(entry.name), proc)
            if info is not None:
                table[info.pid] = info
    return table


def tree(root: int, table: dict[int, ProcessInfo]) -> list[ProcessInfo]:
    """``root`` and every descendant of it in ``table``."""
    children: dict[int, list[int]] = {}
    for info in table.values():
        children.setdefault(info.ppid, []).append(info.pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in table:
            found.append(table[pid])
        todo.extend(children.get(pid, ()))
    return found


def kind_of(info: ProcessInfo) -> str:
    """ "browsers", "servers" or "harness" (everything else in the tree)."""
    command = info.command.lower()
    if "chrom" in command.split(" ", 1)[0] or "chrome_crashpad" in command:
        return "browsers"
    if "reference_server" in command:
        return "servers"
    return "harness"


def sums_by_kind(processes: Iterable[ProcessInfo]) -> dict[str, int]:
    """RSS in KiB summed per kind."""
    sums = dict.fromkeys(KINDS, 0)
    for info in processes:
        sums[kind_of(info)] += info.rss_kib
    return sums


@dataclass
class Peaks:
    """Peaks over the samples: of each kind's sum, and of the whole tree's sum (KiB)."""

    by_kind: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    total: int = 0
    samples: int = 0
    most_processes: int = 0

    def add(self, sums: dict[str, int], processes: int) -> None:
        for kind, value in sums.items():
            self.by_kind[kind] = max(self.by_kind.get(kind, 0), value)
        self.total = max(self.total, sum(sums.values()))
        self.samples += 1
        self.most_processes = max(self.most_processes, processes)


class TreeSampler:
    """Samples the tree under ``root`` every ``interval`` seconds in a thread, until stopped.

    Use as a context manager around the run; :attr:`peaks` holds the memory peaks and
    :attr:`cpu_seconds` the CPU time the tree's processes used.
    """

    def __init__(self, root: int, interval: float = 0.2, proc: Path = PROC) -> None:
        self.root = root
        self.interval = interval
        self.proc = proc
        self.peaks = Peaks()
        self._cpu: dict[tuple[int, int], float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tree-sampler", daemon=True)

    def sample(self) -> dict[str, int]:
        processes = tree(self.root, process_table(self.proc))
        sums = sums_by_kind(processes)
        self.peaks.add(sums, len(processes))
        for info in processes:
            self._cpu[info.pid, info.started] = info.cpu_seconds
        return sums

    @property
    def cpu_seconds(self) -> float:
        """User + system CPU time of every process seen in the tree, as last sampled: a lower
        bound, missing what a process did after its last sample and processes that lived
        between two samples. Counted per process, so that processes nobody waits for
        (Chromium's, whose time never reaches their ancestors' ``getrusage``) count too."""
        return sum(self._cpu.values())

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


def own_rss_kib() -> int:
    info = read_process(os.getpid())
    return 0 if info is None else info.rss_kib


def cpu_seconds(pid: int, proc: Path = PROC) -> float | None:
    """User + system CPU time a process has used so far (threads included); None if gone."""
    try:
        stat = (proc / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    # After the command name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_pids(root: int | None = None) -> list[int]:
    """The bundled servers among ``root``'s descendants (this process's by default)."""
    processes = tree(os.getpid() if root is None else root, process_table())
    return [info.pid for info in processes if kind_of(info) == "servers"]
