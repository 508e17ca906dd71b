"""The machine a run measured: CPU, cores, memory, Python, Chromium, Playwright, load."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


@dataclass(frozen=True)
class Machine:
    cpu: str
    cores: int
    ram_gib: float
    python: str
    chromium: str
    playwright: str
    system: str
    date: str

    def lines(self) -> list[str]:
        return [
            f"CPU: {self.cpu}",
            f"Cores: {self.cores}",
            f"RAM: {self.ram_gib:.1f} GiB",
            f"OS: {self.system}",
            f"Python: {self.python}",
            f"Chromium: {self.chromium}",
            f"Playwright (Python): {self.playwright}",
            f"Date: {self.date}",
        ]


def cpu_model(cpuinfo: str) -> str:
    """The first ``model name`` of /proc/cpuinfo's text (or ``Model`` on ARM)."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("model name", "Model"):
            return value.strip()
    return "unknown"


def ram_gib(meminfo: str) -> float:
    for line in meminfo.splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def chromium_version() -> str:
    """The version of the system Chromium the benchmarks' headless runs launch."""
    from harness.browsers import system_chromium

    chromium = system_chromium(headless=True)
    if chromium is None:
        return "not found"
    try:
        out = subprocess.run(
            [str(chromium), "--version"], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError) as error:
        return f"{chromium} ({type(error).__name__})"
    return f"{out.strip()} ({chromium})"


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def describe() -> Machine:
    try:
        playwright = version("playwright")
    except PackageNotFoundError:
        playwright = "not installed"
    return Machine(
        cpu=cpu_model(_read("/proc/cpuinfo")),
        cores=os.cpu_count() or 1,
        ram_gib=ram_gib(_read("/proc/meminfo")),
        python=platform.python_version(),
        chromium=chromium_version(),
        playwright=playwright,
        system=platform.platform(),
        date=datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()
