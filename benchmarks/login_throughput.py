"""Figure 4, the bundled server's complete logins per second under concurrent load, against
the limit its password hashing sets.

Load: C client threads in this process (the server is a separate process), each with its own
TOTP accounts, each looping over complete logins for a fixed time: open the login page, post
the password, open the two-factor page, post a TOTP code (bare ``requests``, so the clients
spend little of the machine's CPU). Before each login the account's TOTP clock is moved a step
on through the server's test hook, so no code is a replay; that request counts in the load.
Rate limits are lifted as for a harness session (per address and global); per-user limits
count only failures, and no login fails. Flows per second = completed logins ÷ seconds.

Limit: one argon2 verification at the server's settings (``reference_server.config``:
``argon2_time_cost``, ``argon2_memory_cost``, ``argon2_parallelism``), timed in this process,
repeated, median; limit = cores ÷ that time. For comparison, the in-process verifications per
second with ``cores`` threads verifying at once is reported too, and the CPU time the server
and the clients spent per login.

Known from the server's code: the login view verifies the password inside
``ratelimits().guarded()``, one process-wide lock (``reference_server/ratelimits.py``), so
two verifications never overlap; the server cannot pass 1 ÷ one verification, which is
1 ÷ cores of the limit above.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pyotp
from argon2 import PasswordHasher

from benchmarks.figures import THROUGHPUT_TARGET, Figure, median, ratio
from benchmarks.procmem import cpu_seconds, server_pids
from benchmarks.protocol_overhead import bare_login
from benchmarks.server import TotpClock, bundled_target, make_totp_accounts
from reference_server.config import ServerConfig


@dataclass(frozen=True)
class HashSettings:
    time_cost: int
    memory_cost: int
    parallelism: int

    @classmethod
    def of_server(cls) -> HashSettings:
        fields = ServerConfig.__dataclass_fields__
        return cls(
            fields["argon2_time_cost"].default,
            fields["argon2_memory_cost"].default,
            fields["argon2_parallelism"].default,
        )

    def __str__(self) -> str:
        return f"t={self.time_cost}, m={self.memory_cost} KiB, p={self.parallelism}"


@dataclass(frozen=True)
class ThroughputFigures:
    clients: int
    seconds: float
    flows: int
    failures: int
    cores: int
    settings: HashSettings
    verify_seconds: float | None
    parallel_verifications_per_second: float | None
    server_cpu_seconds: float | None = None
    client_cpu_seconds: float | None = None
    verify_cpu_seconds: float | None = None

    @property
    def flows_per_second(self) -> float | None:
        return ratio(self.flows, self.seconds)

    @property
    def limit(self) -> float | None:
        return ratio(self.cores, self.verify_seconds)

    @property
    def fraction_of_limit(self) -> float | None:
        return ratio(self.flows_per_second, self.limit)

    def cpu_per_flow(self, seconds: float | None) -> float | None:
        per_flow = ratio(seconds, self.flows)
        return None if per_flow is None else per_flow * 1000

    def figures(self) -> list[Figure]:
        return [
            Figure(
                "complete logins per second (password + TOTP)",
                self.flows_per_second,
                "/s",
                f"{self.clients} client threads for {self.seconds:.1f} s: {self.flows} logins,"
                f" {self.failures} failed",
            ),
            Figure(
                f"one argon2 verification ({self.settings})",
                None if self.verify_seconds is None else self.verify_seconds * 1000,
                "ms",
                "argon2-cffi PasswordHasher.verify in this process, median",
            ),
            Figure(
                "CPU time of one argon2 verification",
                None if self.verify_cpu_seconds is None else self.verify_cpu_seconds * 1000,
                "ms",
                "the same verifications' CPU time (all threads), median: the work itself, which"
                " other load on the machine does not stretch as it stretches wall time",
            ),
            Figure(
                "hashing limit (cores ÷ one verification)", self.limit, "/s", f"{self.cores} cores"
            ),
            Figure(
                f"argon2 verifications per second, {self.cores} threads in-process",
                self.parallel_verifications_per_second,
                "/s",
                "for comparison: what the hashing alone reaches with every core busy",
            ),
            Figure(
                "server CPU per login",
                self.cpu_per_flow(self.server_cpu_seconds),
                "ms",
                "the server process's user+system CPU time (/proc/<pid>/stat) over the load"
                " ÷ logins; all its threads, argon2's included",
            ),
            Figure(
                "client CPU per login",
                self.cpu_per_flow(self.client_cpu_seconds),
                "ms",
                "this process's CPU time over the load ÷ logins (the load's clients)",
            ),
            Figure(
                "hashing limit from CPU time (cores ÷ CPU time of one verification)",
                ratio(self.cores, self.verify_cpu_seconds),
                "/s",
                "argon2 runs p lanes on p threads, so one verification's wall time already"
                " spreads over the cores; this limit counts its work instead",
            ),
            Figure(
                "login throughput, fraction of the hashing limit",
                self.fraction_of_limit,
                "%",
                "logins per second ÷ limit",
                THROUGHPUT_TARGET,
            ),
        ]


def time_one_verification(settings: HashSettings, repetitions: int = 30) -> tuple[float, float]:
    """Median wall time and median CPU time (every thread of this process) of one verify."""
    hasher = PasswordHasher(
        settings.time_cost, settings.memory_cost, parallelism=settings.parallelism
    )
    stored = hasher.hash("a password of somebody's")
    hasher.verify(stored, "a password of somebody's")  # warm-up
    walls, cpus = [], []
    for _ in range(repetitions):
        start, cpu = time.perf_counter(), time.process_time()
        hasher.verify(stored, "a password of somebody's")
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    wall, cpu_time = median(walls), median(cpus)
    assert wall is not None and cpu_time is not None
    return wall, cpu_time


def parallel_verifications(settings: HashSettings, threads: int, seconds: float = 3.0) -> float:
    hasher = PasswordHasher(
        settings.time_cost, settings.memory_cost, parallelism=settings.parallelism
    )
    stored = hasher.hash("a password of somebody's")
    deadline = time.perf_counter() + seconds

    def loop(_: int) -> int:
        done = 0
        while time.perf_counter() < deadline:
            hasher.verify(stored, "a password of somebody's")
            done += 1
        return done

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        total = sum(pool.map(loop, range(threads)))
    return total / (time.perf_counter() - start)


def measure(seconds: float = 20.0, clients: int | None = None) -> ThroughputFigures:
    cores = os.cpu_count() or 1
    clients = clients or 4 * cores
    settings = HashSettings.of_server()
    with bundled_target() as target:
        accounts = make_totp_accounts(target, 2 * clients)
        clock = TotpClock(target, int(time.time()) + 3600)
        lock = threading.Lock()
        counts = {"flows": 0, "failures": 0}
        stop = threading.Event()

        def client(index: int) -> None:
            mine = accounts[2 * index : 2 * index + 2]
            turn = 0
            while not stop.is_set():
                account = mine[turn % 2]
                turn += 1
                try:
                    code = pyotp.TOTP(account.secret).at(clock.next_time(account.username))
                    bare_login(target.base_url, account, code)
                    outcome = "flows"
                except Exception:  # counted and reported, never hidden
                    outcome = "failures"
                if not stop.is_set():
                    with lock:
                        counts[outcome] += 1

        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        servers = server_pids()
        server_cpu = cpu_seconds(servers[0]) if len(servers) == 1 else None
        client_cpu = time.process_time()
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        time.sleep(seconds)
        stop.set()
        elapsed = time.perf_counter() - start
        client_cpu = time.process_time() - client_cpu
        if server_cpu is not None:
            now = cpu_seconds(servers[0])
            server_cpu = None if now is None else now - server_cpu
        for thread in threads:
            thread.join()
    verify, verify_cpu = time_one_verification(settings)
    per_second = parallel_verifications(settings, cores)
    return ThroughputFigures(
        clients,
        elapsed,
        counts["flows"],
        counts["failures"],
        cores,
        settings,
        verify,
        per_second,
        server_cpu,
        client_cpu,
        verify_cpu,
    )
