"""The /proc sampler, on this process and on a child it starts."""

from __future__ import annotations

import os
import subprocess
import sys

from benchmarks.procmem import (
    ProcessInfo,
    TreeSampler,
    cpu_seconds,
    kind_of,
    own_rss_kib,
    process_table,
    read_process,
    sums_by_kind,
    tree,
)


def test_this_process_is_read_with_its_parent_and_rss() -> None:
    info = read_process(os.getpid())
    assert info is not None
    assert info.ppid == os.getppid()
    assert info.rss_kib > 1000
    assert "python" in info.command or "pytest" in info.command
    assert own_rss_kib() > 0


def test_a_gone_process_reads_as_none() -> None:
    assert read_process(2**22 + 7) is None
    assert cpu_seconds(2**22 + 7) is None


def test_the_tree_holds_a_child() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    try:
        pids = {info.pid for info in tree(os.getpid(), process_table())}
        assert {os.getpid(), child.pid} <= pids
    finally:
        child.communicate(b"")


def test_processes_are_sorted_by_kind() -> None:
    def info(command: str) -> ProcessInfo:
        return ProcessInfo(1, 0, command, 100)

    assert kind_of(info("/usr/lib/chromium/chromium --type=renderer")) == "browsers"
    assert kind_of(info("/usr/bin/python -m reference_server --port 0")) == "servers"
    assert kind_of(info("/work/.venv/bin/python -m pytest -n 2")) == "harness"
    assert kind_of(info("node /x/playwright/driver/package/cli.js run-driver")) == "harness"
    sums = sums_by_kind([info("chromium"), info("chromium --type=gpu"), info("python")])
    assert sums == {"harness": 100, "browsers": 200, "servers": 0}


def test_the_sampler_sees_this_process() -> None:
    sampler = TreeSampler(os.getpid(), interval=0.01)
    sums = sampler.sample()
    assert sums["harness"] > 0
    assert sampler.peaks.samples == 1
    assert sampler.peaks.total >= sums["harness"]
    with sampler:
        pass
    assert sampler.peaks.samples >= 2


def test_cpu_time_of_this_process_is_read() -> None:
    used = cpu_seconds(os.getpid())
    assert used is not None and used >= 0


def test_the_sampler_counts_the_cpu_of_a_grandchild_nobody_waits_for() -> None:
    # The child starts a busy grandchild and never waits for it: the grandchild's CPU time
    # never reaches this process's getrusage, but the sampler sees it while it runs. The child
    # stays until the grandchild is done (its output closes), however slow a loaded machine
    # makes it, and a moment longer, so that a last sample sees all of its time.
    busy = "import time\nend = time.process_time() + 0.6\nwhile time.process_time() < end: pass"
    spawn = (
        "import subprocess, sys, time\n"
        f"busy = subprocess.Popen([sys.executable, '-c', {busy!r}], stdout=subprocess.PIPE)\n"
        "busy.stdout.read()\n"
        "time.sleep(0.3)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", spawn])
    with TreeSampler(child.pid, 0.05) as sampler:
        child.wait()
    assert sampler.cpu_seconds >= 0.4
