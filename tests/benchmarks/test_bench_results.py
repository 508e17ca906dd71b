"""The benchmarks' own logic with synthetic figures: targets, ratios, the RESULTS.md writer,
the runner's options. Nothing here times anything."""

from __future__ import annotations

import pytest

from benchmarks import runner
from benchmarks.figures import (
    BROWSER_OVERHEAD_TARGET,
    SPEEDUP_TARGET,
    THROUGHPUT_TARGET,
    Bound,
    Figure,
    Target,
    format_value,
    ratio,
)
from benchmarks.login_throughput import CoreSplit, Load, ThroughputFigures
from benchmarks.machine import Machine, cpu_model, ram_gib
from benchmarks.protocol_overhead import ProtocolFigures
from benchmarks.results import Section, render
from benchmarks.server import HashSettings
from benchmarks.speedup import SpeedupFigures, SuiteRun, summary_of

MACHINE = Machine("Test CPU 9000", 2, 23.5, "3.11.7", "Chromium 1.0", "1.65.2", "Linux", "today")


class TestTargets:
    def test_at_least_is_met_from_the_threshold_up(self) -> None:
        assert SPEEDUP_TARGET.met(1.6) is True
        assert SPEEDUP_TARGET.met(1.59) is False

    def test_at_most_is_met_up_to_the_threshold(self) -> None:
        assert BROWSER_OVERHEAD_TARGET.met(1.2) is True
        assert BROWSER_OVERHEAD_TARGET.met(1.21) is False

    def test_a_missing_value_is_neither_met_nor_missed(self) -> None:
        assert SPEEDUP_TARGET.met(None) is None
        assert Figure("x", None, "x", target=SPEEDUP_TARGET).verdict() == (
            "target ≥ 1.60x: not measured"
        )

    def test_verdicts_say_met_or_not(self) -> None:
        assert Figure("a", 1.7, "x", target=SPEEDUP_TARGET).verdict() == "target ≥ 1.60x: met"
        assert Figure("b", 0.5, "%", target=THROUGHPUT_TARGET).verdict() == (
            "target ≥ 70.0 %: NOT met"
        )
        assert Figure("c", 3.0, "s").verdict() == ""

    def test_targets_print_in_their_unit(self) -> None:
        assert str(Target(Bound.AT_MOST, 1.2)) == "≤ 1.20x"
        assert format_value(0.7234, "%") == "72.3 %"
        assert format_value(0.41234, "s") == "0.412 s"
        assert format_value(None, "s") == "n/a"


class TestRatios:
    def test_ratio(self) -> None:
        assert ratio(3.0, 2.0) == 1.5

    def test_ratio_without_a_denominator_is_none(self) -> None:
        assert ratio(3.0, 0.0) is None
        assert ratio(None, 2.0) is None
        assert ratio(3.0, None) is None

    def test_speedup_is_one_worker_over_n_workers(self) -> None:
        figures = SpeedupFigures(
            ("scenarios/totp",),
            2,
            (SuiteRun(0, 100.0, 0, "9 passed"),),
            (SuiteRun(2, 50.0, 0, "9"),),
        )
        assert figures.speedup == 2.0
        speedup = next(f for f in figures.figures() if f.name == "speed-up with 2 workers")
        assert speedup.met is True

    def test_the_ceiling_is_what_the_n_worker_runs_cpu_time_allows(self) -> None:
        single = SuiteRun(0, 300.0, 0, "9 passed", cpu_seconds=420.0)
        parallel = SuiteRun(2, 240.0, 0, "9 passed", cpu_seconds=460.0)
        figures = SpeedupFigures(("scenarios",), 2, (single,), (parallel,), cores=2)
        assert single.cores_busy == 1.4
        assert figures.ceiling == 300.0 / 230.0
        shown = {f.name: f.shown() for f in figures.figures()}
        assert shown["speed-up ceiling set by CPU time on 2 cores"] == "1.30x"
        assert shown["cores busy on average, 2 workers"] == "1.92x"

    def test_several_turns_give_each_side_its_median_and_each_turn_its_own_speedup(
        self,
    ) -> None:
        singles = (SuiteRun(0, 300.0, 0, "9 passed"), SuiteRun(0, 360.0, 0, "9 passed"))
        parallels = (SuiteRun(2, 200.0, 0, "9 passed"), SuiteRun(2, 200.0, 0, "9 passed"))
        figures = SpeedupFigures(("scenarios",), 2, singles, parallels, cores=2)
        assert figures.speedup == 330.0 / 200.0
        assert figures.pair_speedups == [1.5, 1.8]
        speedup = next(f for f in figures.figures() if f.name == "speed-up with 2 workers")
        assert speedup.how.endswith("each turn's own: 1.50x, 1.80x")
        assert speedup.met is True

    def test_protocol_overhead_is_harness_over_bare(self) -> None:
        figures = ProtocolFigures(5, harness_seconds=0.3, bare_seconds=0.2)
        assert figures.overhead == pytest.approx(1.5)
        assert figures.figures()[-1].met is False

    def test_throughput_is_a_fraction_of_cores_over_one_verification(self) -> None:
        figures = ThroughputFigures(
            clients=8,
            cores=CoreSplit(frozenset({2, 3}), frozenset({0, 1})),
            settings=HashSettings(6, 1024, 6),
            bundled=Load(seconds=10.0, flows=700, failures=0, server_cpu_seconds=7.0),
            verify_seconds=0.02,
            parallel_verifications_per_second=90.0,
        )
        assert figures.bundled.flows_per_second == 70.0
        assert figures.limit == 100.0  # the server's two cores ÷ 20 ms
        assert figures.fraction_of_limit == 0.7
        assert figures.bundled.cpu_per_flow(figures.bundled.server_cpu_seconds) == 10.0
        assert figures.figures()[-1].met is True

    def test_the_leanest_login_is_set_against_the_same_limit_without_a_target(self) -> None:
        figures = ThroughputFigures(
            clients=8,
            cores=CoreSplit(frozenset({1}), frozenset({0})),
            settings=HashSettings(6, 1024, 6),
            bundled=Load(seconds=10.0, flows=300, failures=0),
            verify_seconds=0.01,
            parallel_verifications_per_second=90.0,
            lean=Load(seconds=10.0, flows=550, failures=0, server_cpu_seconds=9.9),
        )
        by_name = {figure.name: figure for figure in figures.figures()}
        lean = by_name["leanest Flask login, fraction of the hashing limit"]
        assert (lean.value, lean.target) == (0.55, None)
        assert by_name["server CPU per login, leanest Flask login"].shown() == "18.0 ms"
        assert figures.fraction_of_limit == 0.3
        assert figures.figures()[-1].target is not None

    def test_the_server_gets_the_upper_half_of_the_cores_and_the_clients_the_rest(self) -> None:
        assert CoreSplit.halves({0, 1}) == CoreSplit(frozenset({1}), frozenset({0}))
        assert CoreSplit.halves({0, 1, 2, 3, 4}) == CoreSplit(
            frozenset({2, 3, 4}), frozenset({0, 1})
        )
        assert str(CoreSplit.halves({0, 1})) == "server on core(s) 1, clients on core(s) 0"

    def test_one_core_is_shared(self) -> None:
        split = CoreSplit.halves({3})
        assert split.server == split.clients == frozenset({3})
        assert str(split) == "server and clients share core 3"

    def test_hash_settings_are_the_servers(self) -> None:
        from reference_server.config import ServerConfig

        settings = HashSettings.of_server()
        defaults = ServerConfig.__dataclass_fields__
        assert settings.time_cost == defaults["argon2_time_cost"].default


class TestResultsFile:
    def render(self, sections: list[Section]) -> str:
        return render(MACHINE, sections, (1.0, 2.0, 3.0), (1.5, 2.0, 3.0), "python -m x", 90.0)

    def test_it_describes_the_machine_and_the_load(self) -> None:
        text = self.render([])
        assert "- CPU: Test CPU 9000" in text
        assert "- Cores: 2" in text
        assert "at start: 1.00 / 2.00 / 3.00; at end: 1.50 / 2.00 / 3.00" in text

    def test_each_figure_has_its_method_and_target(self) -> None:
        figure = Figure("speed-up", 1.5, "x", "one ÷ two", SPEEDUP_TARGET)
        text = self.render([Section("1. Speed-up", (figure,), notes="Ran the suite twice.")])
        assert "| speed-up | 1.50x | one ÷ two | target ≥ 1.60x: NOT met |" in text
        assert "| speed-up | 1.50x | ≥ 1.60x | **no** |" in text  # the summary
        assert "Ran the suite twice." in text

    def test_a_benchmark_that_failed_says_so(self) -> None:
        text = self.render([Section("2. Browser", error="RuntimeError: no browser")])
        assert "Not measured: RuntimeError: no browser" in text
        assert "| 2. Browser | not measured | | RuntimeError: no browser |" in text


class TestMachine:
    def test_cpu_model_and_ram_come_from_proc(self) -> None:
        assert cpu_model("processor\t: 0\nmodel name\t: AMD EPYC 7B13\n") == "AMD EPYC 7B13"
        assert cpu_model("") == "unknown"
        assert ram_gib("MemTotal:       24641536 kB\n") == 23.5


class TestRunner:
    def test_a_bad_option_is_exit_status_2(self, capsys) -> None:
        assert runner.main(["--only", "nothing"]) == 2

    def test_options_default_to_the_subset_suite(self) -> None:
        args = runner.parser().parse_args([])
        assert args.suite_paths[:2] == ["scenarios/totp", "scenarios/recovery_codes"]
        assert args.results.name == "RESULTS.md"

    def test_pytest_summary_line_loses_its_time(self) -> None:
        output = "....\n===== 120 passed, 3 skipped in 95.12s (0:01:35) =====\n"
        assert summary_of(output) == "120 passed, 3 skipped"
        assert summary_of("4 passed in 1.0s\n") == "4 passed"
        assert summary_of("boom") == "no summary"
