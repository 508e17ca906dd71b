"""Figure 4, the bundled server's complete logins per second under concurrent load, against
the limit its password hashing sets.

Cores: the load's clients run on this machine too, so the cores are split: the server process
(every thread of it, and argon2's threads, which inherit the pinning) gets one half of them,
the clients the other (``sched_setaffinity``). On a one-core machine both share it. The limit
is then the server's cores ÷ one argon2 verification on those cores, and what the clients
spend cannot lower the server's figure.

Load: C client threads in this process, each with its own TOTP accounts, each looping over
complete logins for a fixed time: open the login page, post the password, open the two-factor
page, post a TOTP code. The clients are :class:`benchmarks.lean_client.LeanBrowser`s (the
standard library's ``http.client``, one kept-alive connection each), so that they need less
CPU than the server they load. Before each login the account's TOTP clock is moved a step on
through the server's test hook, so no code is a replay; that request counts in the load. Rate
limits are lifted as for a harness session (per address and global); per-user limits count
only failures, and no login fails. Flows per second = completed logins ÷ seconds.

Limit: one argon2 verification at the server's settings (``reference_server.config``:
``argon2_time_cost``, ``argon2_memory_cost``, ``argon2_parallelism``), timed in this process on
the server's cores, repeated, median; limit = the server's cores ÷ that time. For comparison:
the verifications per second that threads verifying at once reach on those cores, and the CPU
time the server and the clients spent per login.

The leanest login: the same load, for the same time, against
:mod:`benchmarks.lean_login_server`, a Flask app on waitress that does what a password + TOTP
login must (server-side sessions rotated at each step, CSRF, argon2 at the same settings, the
bundled server's TOTP check, one atomic update against replays) and nothing else. Its fraction
of the same limit shows how near to the limit a server built as DESIGN.md builds the bundled
one can come on this machine: the hash is not the only cost of a login.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyotp

from benchmarks import lean_login_server
from benchmarks.figures import THROUGHPUT_TARGET, Figure, median, ratio
from benchmarks.lean_client import LeanBrowser
from benchmarks.procmem import cpu_seconds, server_pids
from benchmarks.server import (
    INTERVAL,
    HashSettings,
    TotpAccount,
    bundled_target,
    make_totp_accounts,
)

PASSWORD = "a password of somebody's"


@dataclass(frozen=True)
class CoreSplit:
    """Which cores the server runs on and which the load's clients run on."""

    server: frozenset[int]
    clients: frozenset[int]

    @classmethod
    def halves(cls, available: set[int] | None = None) -> CoreSplit:
        """The upper half of the ``available`` cores (default: this process's) for the server,
        the lower half for the clients; one core is shared."""
        cores = sorted(os.sched_getaffinity(0) if available is None else available)
        if len(cores) < 2:
            return cls(frozenset(cores), frozenset(cores))
        half = len(cores) // 2
        return cls(frozenset(cores[half:]), frozenset(cores[:half]))

    def __str__(self) -> str:
        def names(cores: frozenset[int]) -> str:
            return ", ".join(str(core) for core in sorted(cores))

        if self.server == self.clients:
            return f"server and clients share core {names(self.server)}"
        return f"server on core(s) {names(self.server)}, clients on core(s) {names(self.clients)}"


@dataclass(frozen=True)
class Load:
    """What one load run did: complete logins by the clients in ``seconds``, and the CPU time
    the server process and the clients spent meanwhile."""

    seconds: float
    flows: int
    failures: int
    server_cpu_seconds: float | None = None
    client_cpu_seconds: float | None = None

    @property
    def flows_per_second(self) -> float | None:
        return ratio(self.flows, self.seconds)

    def cpu_per_flow(self, seconds: float | None) -> float | None:
        per_flow = ratio(seconds, self.flows)
        return None if per_flow is None else per_flow * 1000


@dataclass(frozen=True)
class ThroughputFigures:
    clients: int
    cores: CoreSplit
    settings: HashSettings
    bundled: Load
    verify_seconds: float | None
    parallel_verifications_per_second: float | None
    verify_cpu_seconds: float | None = None
    lean: Load | None = None

    @property
    def limit(self) -> float | None:
        return ratio(len(self.cores.server), self.verify_seconds)

    @property
    def fraction_of_limit(self) -> float | None:
        return ratio(self.bundled.flows_per_second, self.limit)

    def figures(self) -> list[Figure]:
        server_cores = len(self.cores.server)
        bundled = self.bundled
        return [
            Figure(
                "complete logins per second (password + TOTP)",
                bundled.flows_per_second,
                "/s",
                f"{self.clients} client threads for {bundled.seconds:.1f} s: {bundled.flows}"
                f" logins, {bundled.failures} failed; {self.cores}",
            ),
            Figure(
                f"one argon2 verification ({self.settings}) on the server's cores",
                None if self.verify_seconds is None else self.verify_seconds * 1000,
                "ms",
                "argon2-cffi PasswordHasher.verify in this process, pinned to the server's"
                " cores, median",
            ),
            Figure(
                "CPU time of one argon2 verification",
                None if self.verify_cpu_seconds is None else self.verify_cpu_seconds * 1000,
                "ms",
                "the same verifications' CPU time (all threads), median",
            ),
            Figure(
                f"hashing limit ({server_cores} server core(s) ÷ one verification)",
                self.limit,
                "/s",
                f"{self.cores}",
            ),
            Figure(
                f"argon2 verifications per second, {2 * server_cores} threads on the server's"
                " cores",
                self.parallel_verifications_per_second,
                "/s",
                "for comparison: what the hashing alone reaches there with every core busy",
            ),
            Figure(
                "server CPU per login",
                bundled.cpu_per_flow(bundled.server_cpu_seconds),
                "ms",
                "the server process's user+system CPU time (/proc/<pid>/stat) over the load"
                " ÷ logins; all its threads, argon2's included",
            ),
            Figure(
                "client CPU per login",
                bundled.cpu_per_flow(bundled.client_cpu_seconds),
                "ms",
                "this process's CPU time over the load ÷ logins (the load's clients)",
            ),
            *self.lean_figures(),
            Figure(
                "login throughput, fraction of the hashing limit",
                self.fraction_of_limit,
                "%",
                "logins per second ÷ limit",
                THROUGHPUT_TARGET,
            ),
        ]

    def lean_figures(self) -> list[Figure]:
        """The same load against the leanest login (:mod:`benchmarks.lean_login_server`)."""
        lean = self.lean
        if lean is None:
            return []
        return [
            Figure(
                "complete logins per second, leanest Flask login",
                lean.flows_per_second,
                "/s",
                f"the same load for {lean.seconds:.1f} s against benchmarks/lean_login_server.py:"
                f" {lean.flows} logins, {lean.failures} failed",
            ),
            Figure(
                "server CPU per login, leanest Flask login",
                lean.cpu_per_flow(lean.server_cpu_seconds),
                "ms",
                "as for the bundled server",
            ),
            Figure(
                "leanest Flask login, fraction of the hashing limit",
                ratio(lean.flows_per_second, self.limit),
                "%",
                "for comparison: how near the limit a server built as the bundled one can come",
            ),
        ]


@contextlib.contextmanager
def pinned(cores: frozenset[int]) -> Iterator[None]:
    """Run the calling thread, and the threads it starts meanwhile, on ``cores``."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cores)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def pin_process(pid: int, cores: frozenset[int]) -> None:
    """Move every thread of process ``pid`` to ``cores``; threads it starts later inherit it."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(ProcessLookupError):
            os.sched_setaffinity(int(task.name), cores)


def time_one_verification(settings: HashSettings, repetitions: int = 30) -> tuple[float, float]:
    """Median wall time and median CPU time (every thread of this process) of one verify."""
    hasher = settings.hasher()
    stored = hasher.hash(PASSWORD)
    hasher.verify(stored, PASSWORD)  # warm-up
    walls, cpus = [], []
    for _ in range(repetitions):
        start, cpu = time.perf_counter(), time.process_time()
        hasher.verify(stored, PASSWORD)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    wall, cpu_time = median(walls), median(cpus)
    assert wall is not None and cpu_time is not None
    return wall, cpu_time


def parallel_verifications(settings: HashSettings, threads: int, seconds: float = 3.0) -> float:
    hasher = settings.hasher()
    stored = hasher.hash(PASSWORD)
    deadline = time.perf_counter() + seconds

    def loop(_: int) -> int:
        done = 0
        while time.perf_counter() < deadline:
            hasher.verify(stored, PASSWORD)
            done += 1
        return done

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        total = sum(pool.map(loop, range(threads)))
    return total / (time.perf_counter() - start)


def drive_load(
    base_url: str,
    accounts: Sequence[TotpAccount],
    server_pid: int,
    cores: CoreSplit,
    seconds: float,
    clients: int,
) -> Load:
    """``clients`` threads, two of ``accounts`` each, logging in for ``seconds``; the server
    process ``server_pid`` pinned to the server's cores, the clients to theirs."""
    if len(accounts) < 2 * clients:
        raise ValueError(f"{clients} clients need {2 * clients} accounts, not {len(accounts)}")
    pin_process(server_pid, cores.server)
    start_time = int(time.time()) + 3600
    lock = threading.Lock()
    counts = {"flows": 0, "failures": 0}
    stop = threading.Event()

    def client(index: int) -> None:
        browser = LeanBrowser(base_url)
        mine = accounts[2 * index : 2 * index + 2]
        turn = 0
        while not stop.is_set():
            account = mine[turn % 2]
            turn += 1
            when = start_time + turn * INTERVAL
            try:
                browser.set_totp_clock(account.username, when)
                browser.log_in(account, pyotp.TOTP(account.secret).at(when))
                outcome = "flows"
            except Exception:  # counted and reported, never hidden
                browser.close()
                browser = LeanBrowser(base_url)
                outcome = "failures"
            if not stop.is_set():
                with lock:
                    counts[outcome] += 1
        browser.close()

    with pinned(cores.clients):
        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        server_cpu = cpu_seconds(server_pid)
        client_cpu = time.process_time()
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        time.sleep(seconds)
        stop.set()
        elapsed = time.perf_counter() - start
        client_cpu = time.process_time() - client_cpu
        now = cpu_seconds(server_pid)
        server_cpu = None if now is None or server_cpu is None else now - server_cpu
        for thread in threads:
            thread.join()
    return Load(elapsed, counts["flows"], counts["failures"], server_cpu, client_cpu)


def measure(seconds: float = 20.0, clients: int = 8) -> ThroughputFigures:
    cores = CoreSplit.halves()
    settings = HashSettings.of_server()
    with bundled_target() as target:
        accounts = make_totp_accounts(target, 2 * clients)
        servers = server_pids()
        if len(servers) != 1:
            raise RuntimeError(f"expected one bundled server process, found {len(servers)}")
        bundled = drive_load(target.base_url, accounts, servers[0], cores, seconds, clients)
    lean_ones = lean_login_server.lean_accounts(2 * clients, PASSWORD)
    with lean_login_server.started(lean_ones) as server:
        lean = drive_load(server.base_url, lean_ones, server.pid, cores, seconds, clients)
    with pinned(cores.server):
        verify, verify_cpu = time_one_verification(settings)
        per_second = parallel_verifications(settings, 2 * len(cores.server))
    return ThroughputFigures(
        clients, cores, settings, bundled, verify, per_second, verify_cpu, lean
    )
