"""Figure 6's race on real bundled servers, a few rounds: two servers on one database take
turns fairly (each round logs in exactly once), and its figures say what they count."""

from __future__ import annotations

import pytest

from benchmarks.figures import Figure
from benchmarks.replay import RaceResult, ReplayFigures, Tally, race_on
from harness.targets import ServerBackends


def tally(once: int, none: int = 0, twice: int = 0) -> Tally:
    counted = Tally()
    for accepted, times in ((1, once), (0, none), (2, twice)):
        for _ in range(times):
            counted.count(accepted)
    return counted


def by_name(figures: list[Figure]) -> dict[str, Figure]:
    return {figure.name: figure for figure in figures}


class TestRaceOnTwoServers:
    @pytest.mark.parametrize("kind", ["TOTP code", "recovery code"])
    def test_each_round_logs_in_exactly_once(self, kind: str) -> None:
        # Nine recovery-code rounds use up a set and regenerate it in the winner's session.
        result = race_on(ServerBackends(), kind, rounds=9)
        assert result.rounds == 9
        assert result.outcomes == {0: 0, 1: 9, 2: 0}


class TestReplayFigures:
    def test_double_acceptances_and_lost_rounds_are_held_to_zero(self) -> None:
        figures = by_name(
            ReplayFigures(
                (RaceResult("TOTP code", "SQLite", tally(199, twice=1), tally(30, twice=10)),)
            ).figures()
        )
        double = figures["double acceptances, TOTP code, 2 servers on SQLite"]
        assert (double.value, double.met) == (1, False)
        assert figures["lost rounds, TOTP code, 2 servers on SQLite"].met is True
        assert figures["rounds, TOTP code, 2 servers on SQLite"].met is True
        twin = figures[
            "double acceptances, TOTP code, 2 servers on SQLite, --disable-check totp-replay"
        ]
        assert (twin.value, twin.target) == (10, None)

    def test_fewer_than_two_hundred_rounds_miss_the_target(self) -> None:
        figures = by_name(
            ReplayFigures((RaceResult("recovery code", "SQLite", tally(20), tally(5)),)).figures()
        )
        assert figures["rounds, recovery code, 2 servers on SQLite"].met is False

    def test_a_database_that_could_not_be_started_is_reported(self) -> None:
        figures = ReplayFigures((), skipped=("PostgreSQL (not installed)",)).figures()
        assert [(f.name, f.value) for f in figures] == [
            ("not measured: PostgreSQL (not installed)", None)
        ]
