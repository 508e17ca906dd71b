"""Figure 6, one second factor sent twice at once, many times over: no double acceptance.

Two bundled server processes share one database, as two servers behind a load balancer would,
so that no lock inside one process can keep the two requests apart: only the database's
conditional updates keep a code single-use. One TOTP account with recovery codes is made on
them. Each round, two sessions of that user pass the password step (one on each server), open
the second-factor form, then post the same code at the same instant (a barrier releases both
threads: :func:`harness.client.at_once`). A TOTP round uses a fresh time step (the servers'
test hook moves the account's TOTP clock on both); a recovery-code round a code not used
before (the set is regenerated, in the winner's session, when it runs out). A round is
accepted once when exactly one of the two answers completes the login, twice when both do.

The honest servers run ``rounds`` rounds of each kind on each database (SQLite, and
PostgreSQL when Debian's package is installed: a server is started for the pass). The twins
are the same servers with one check off (``--disable-check totp-replay``, or
``recovery-code-atomic-use``) and fewer rounds: their double acceptances show that the
requests truly overlap, so that the honest servers' zero is a result and not an accident.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.figures import Bound, Figure, Target
from harness.accounts import AccountFactory, TestAccount
from harness.client import RECOVERY_CODE_FORM, TOTP_FORM, HtmlPage, IndexClient, at_once
from harness.services import postgresql_missing, postgresql_server
from harness.targets import BundledServer, Profile, ServerBackends
from harness.targets import Target as IndexTarget

ROUNDS = 200
TWIN_ROUNDS = 40
NO_DOUBLE_ACCEPTANCE = Target(Bound.AT_MOST, 0, unit="n")
NO_LOST_ROUND = Target(Bound.AT_MOST, 0, unit="n")
ENOUGH_ROUNDS = Target(Bound.AT_LEAST, ROUNDS, unit="n")
CHECK_OF_KIND = {"TOTP code": "totp-replay", "recovery code": "recovery-code-atomic-use"}
INTERVAL = 30


@dataclass
class Tally:
    """How many rounds ended with no, one or two logins completed."""

    rounds: int = 0
    outcomes: dict[int, int] = field(default_factory=lambda: {0: 0, 1: 0, 2: 0})

    def count(self, accepted: int) -> None:
        self.rounds += 1
        self.outcomes[accepted] += 1


@dataclass(frozen=True)
class RaceResult:
    """One kind of code on one database: the honest servers' tally and the twin's."""

    kind: str
    database: str
    honest: Tally
    twin: Tally


@dataclass(frozen=True)
class ReplayFigures:
    results: tuple[RaceResult, ...]
    skipped: tuple[str, ...] = ()

    def figures(self) -> list[Figure]:
        rows: list[Figure] = []
        for result in self.results:
            where = f"{result.kind}, 2 servers on {result.database}"
            honest, twin = result.honest, result.twin
            rows += [
                Figure(
                    f"rounds, {where}",
                    honest.rounds,
                    "n",
                    f"each round both sessions post one code at once; {honest.outcomes[1]}"
                    " rounds logged in exactly once",
                    ENOUGH_ROUNDS,
                ),
                Figure(
                    f"lost rounds, {where}",
                    honest.outcomes[0],
                    "n",
                    f"rounds in which neither answer completed the login, of {honest.rounds}",
                    NO_LOST_ROUND,
                ),
                Figure(
                    f"double acceptances, {where}",
                    honest.outcomes[2],
                    "n",
                    f"rounds in which both answers completed the login, of {honest.rounds}",
                    NO_DOUBLE_ACCEPTANCE,
                ),
                Figure(
                    f"double acceptances, {where}, --disable-check {CHECK_OF_KIND[result.kind]}",
                    twin.outcomes[2],
                    "n",
                    f"the twin: the same race on servers without that one check, of {twin.rounds}"
                    " rounds; more than 0 shows that the two requests overlap",
                ),
            ]
        rows += [Figure(f"not measured: {reason}", None, "n") for reason in self.skipped]
        return rows


class RacingUser:
    """One account on two servers sharing a database, and the race of its second factor."""

    def __init__(self, targets: tuple[IndexTarget, IndexTarget], account: TestAccount) -> None:
        self.targets = targets
        self.account = account
        self.fresh_codes = [
            code for code in account.recovery_codes if code not in account.used_recovery_codes
        ]
        self.clock_start = int(time.time()) + 3600
        self.steps = 0
        self.last_winner: IndexClient | None = None

    def forms(
        self, opener: Callable[[IndexClient, str], HtmlPage]
    ) -> list[tuple[IndexClient, HtmlPage]]:
        """A session on each server past the password step, its second-factor form open."""
        opened = []
        for target in self.targets:
            client = target.client()
            two_factor_url = client.password_step(self.account.username, self.account.password)
            opened.append((client, opener(client, two_factor_url)))
        return opened

    def totp_round(self) -> int:
        """Both sessions post the code of a fresh time step at once; logins completed."""
        self.steps += 1
        when = self.clock_start + self.steps * INTERVAL + INTERVAL // 2
        for target in self.targets:
            assert target.test_hooks is not None
            target.test_hooks.set_totp_clock(self.account.username, when)
        assert self.account.totp is not None
        code = self.account.totp.code_at_step(when // INTERVAL)
        opened = self.forms(lambda client, url: client.get(url))
        return self.race(opened, TOTP_FORM, {"totp_value": code}, "/")

    def recovery_code_round(self) -> int:
        """Both sessions post one recovery code not used before at once; logins completed."""
        if not self.fresh_codes:
            self.regenerate_codes()
        code = self.fresh_codes.pop()
        opened = self.forms(lambda client, url: client.recovery_code_page(url))
        return self.race(
            opened, RECOVERY_CODE_FORM, {"recovery_code_value": code}, "/manage/account/"
        )

    def race(
        self,
        opened: list[tuple[IndexClient, HtmlPage]],
        form: str,
        fields: dict[str, str],
        home: str,
    ) -> int:
        answers = at_once(
            *(lambda c=client, p=page: c.submit_page(p, form, **fields) for client, page in opened)
        )
        winners = [
            client
            for (client, _), answer in zip(opened, answers, strict=True)
            if answer.status == 303 and answer.location == home
        ]
        if winners:
            self.last_winner = winners[0]
        return len(winners)

    def regenerate_codes(self) -> None:
        """A new set of recovery codes, made in the last winning session (a logged-in one)."""
        if self.last_winner is None:
            raise RuntimeError("no logged-in session to regenerate the recovery codes in")
        self.fresh_codes = self.last_winner.generate_recovery_codes(
            self.account.password, regenerate=True
        )


@contextlib.contextmanager
def two_servers(
    database: ServerBackends, disabled_checks: tuple[str, ...] = ()
) -> Iterator[tuple[IndexTarget, IndexTarget]]:
    """Two bundled servers on one database (a fresh SQLite file, or a fresh database on the
    PostgreSQL server ``database`` names)."""
    profile = Profile.load("reference").for_bundled_server()
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as folder:
        first = BundledServer(profile, Path(folder, "a"), disabled_checks, backends=database)
        with first:
            second = BundledServer(
                profile,
                Path(folder, "b"),
                disabled_checks,
                backends=ServerBackends(),
                shared_database=first.database_url,
            )
            with second:
                assert first.target is not None and second.target is not None
                yield first.target, second.target


def race_on(
    database: ServerBackends, kind: str, rounds: int, disabled_checks: tuple[str, ...] = ()
) -> Tally:
    """``rounds`` rounds of ``kind`` on two fresh servers."""
    with two_servers(database, disabled_checks) as targets:
        account = AccountFactory(targets[0]).create(totp=True, recovery_codes=True)
        user = RacingUser(targets, account)
        play = user.totp_round if kind == "TOTP code" else user.recovery_code_round
        tally = Tally()
        for _ in range(rounds):
            tally.count(play())
        return tally


@contextlib.contextmanager
def databases() -> Iterator[tuple[list[tuple[str, ServerBackends]], list[str]]]:
    """The databases to race on: SQLite always, PostgreSQL when it can be started; and why
    not, when it cannot."""
    chosen = [("SQLite", ServerBackends())]
    skipped = []
    missing = postgresql_missing()
    if missing is not None:
        skipped.append(f"PostgreSQL ({missing})")
        yield chosen, skipped
        return
    with postgresql_server() as server_url:
        chosen.append(("PostgreSQL", ServerBackends(database=server_url)))
        yield chosen, skipped


def measure(rounds: int = ROUNDS, twin_rounds: int = TWIN_ROUNDS) -> ReplayFigures:
    results = []
    with databases() as (chosen, skipped):
        for name, backends in chosen:
            for kind, check in CHECK_OF_KIND.items():
                results.append(
                    RaceResult(
                        kind,
                        name,
                        honest=race_on(backends, kind, rounds),
                        twin=race_on(backends, kind, twin_rounds, (check,)),
                    )
                )
    return ReplayFigures(tuple(results), tuple(skipped))
