"""``harness load``: its checks and report in process, its journeys in process against a bundled
server, and the command itself end to end (Locust in subprocesses, as a tester runs it)."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from harness.cli import main
from harness.load import options
from harness.load.flows import (
    JOURNEYS,
    OCCASIONAL_STEPS,
    STEPS,
    LoadUser,
    StepResult,
    step_names,
)
from harness.load.report import LoadReport
from harness.load.users import LoadAccount, provision
from harness.redaction import Secret
from harness.targets import BundledServer, Target
from tests.harness.test_run import RecordingProxy

HARNESS = [sys.executable, "-c", "import sys; from harness.cli import main; sys.exit(main())"]
ALWAYS_TAKEN = [name for name in step_names() if name not in OCCASIONAL_STEPS]


class TestOptions:
    @pytest.mark.parametrize(
        ("text", "seconds"),
        [("45", 45), ("30s", 30), ("2m", 120), ("1h30m", 5400), ("1h", 3600), ("1m5s", 65)],
    )
    def test_locust_style_durations_are_read_as_seconds(self, text: str, seconds: int) -> None:
        assert options.duration(text) == seconds

    @pytest.mark.parametrize("text", ["", "0", "0s", "5x", "-3", "1.5m", "m", "30 s", "1s1h"])
    def test_bad_durations_are_refused(self, text: str) -> None:
        with pytest.raises(options.LoadRefusal, match="--duration"):
            options.duration(text)

    def test_journeys_are_known_names_in_the_order_given(self) -> None:
        assert options.journeys("webauthn, totp,webauthn") == ("webauthn", "totp")
        with pytest.raises(options.LoadRefusal, match="unknown journey 'sms'"):
            options.journeys("totp,sms")

    @pytest.mark.parametrize(
        "url",
        [
            None,
            "http://localhost:8000",
            "http://127.0.0.9/",
            "http://[::1]:5000",
            "http://LOCALHOST.",
        ],
    )
    def test_this_machine_needs_no_ownership_claim(self, url: str | None) -> None:
        assert options.target_refusal(url, owned=False) is None

    def test_another_host_needs_the_ownership_claim(self) -> None:
        refusal = options.target_refusal("https://staging.example/", owned=False)
        assert refusal is not None and "--i-own-this-server" in refusal
        assert options.target_refusal("https://staging.example/", owned=True) is None
        assert options.target_refusal("https://test.pypi.org/", owned=True) is None

    @pytest.mark.parametrize(
        "url",
        ["https://pypi.org", "https://upload.pypi.org/", "https://files.pythonhosted.org"],
    )
    def test_the_production_index_is_refused_whatever_the_flags(self, url: str) -> None:
        refusal = options.target_refusal(url, owned=True)
        assert refusal is not None and "production index" in refusal


class TestRefusals:
    """Each refusal is one line on stderr, exit 2, nothing sent and nothing left behind."""

    @pytest.mark.parametrize(
        ("arguments", "message"),
        [
            (["--users=0", "--spawn-rate=1", "--duration=5"], "--users must be"),
            (["--users=2", "--spawn-rate=0", "--duration=5"], "--spawn-rate must be"),
            (["--users=2", "--spawn-rate=-1", "--duration=5"], "--spawn-rate must be"),
            (["--users=2", "--spawn-rate=1", "--duration=5x"], "--duration must be"),
            (["--users=2", "--spawn-rate=1"], "needs --duration"),
            (["--users=2", "--spawn-rate=1", "--duration=5", "--journeys=sms"], "unknown journey"),
            (
                ["--users=2", "--spawn-rate=1", "--duration=5", "--base-url=http://10.1.2.3"],
                "10.1.2.3 is not this machine",
            ),
            (
                [
                    "--users=2",
                    "--spawn-rate=1",
                    "--duration=5",
                    "--base-url=https://staging.example",
                    "--i-own-this-server",
                ],
                "needs its mail: set HARNESS_IMAP_URL",
            ),
            (["--worker", "--users=2"], "--worker takes --users from the master"),
        ],
    )
    def test_bad_input_is_refused_in_one_line(
        self,
        arguments: list[str],
        message: str,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.delenv("HARNESS_IMAP_URL", raising=False)
        out = tmp_path / "out"
        assert main(["load", *arguments, f"--out={out}"]) == 2
        stderr = capsys.readouterr().err
        assert len(stderr.splitlines()) == 1 and message in stderr
        assert not out.exists()

    def test_a_folder_holding_files_is_never_overwritten(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        (tmp_path / "summary.md").write_text("an earlier run")
        arguments = ["load", "--users=1", "--spawn-rate=1", "--duration=1", f"--out={tmp_path}"]
        assert main(arguments) == 2
        assert "already holds files" in capsys.readouterr().err
        assert (tmp_path / "summary.md").read_text() == "an earlier run"

    def test_the_production_index_gets_no_request(self, tmp_path: Path) -> None:
        proxy = RecordingProxy()
        try:
            run = subprocess.run(
                [
                    *HARNESS,
                    "load",
                    "--base-url=https://pypi.org",
                    "--i-own-this-server",
                    "--users=1",
                    "--spawn-rate=1",
                    "--duration=5s",
                    f"--out={tmp_path / 'out'}",
                ],
                capture_output=True,
                text=True,
                env=proxy.environment(),
                timeout=60,
            )
        finally:
            proxy.close()
        assert run.returncode == 2
        assert run.stderr.splitlines() == [
            "harness: error: pypi.org is the production index: harness load never sends load there"
        ]
        assert proxy.requests == []
        assert not (tmp_path / "out").exists()


RESULTS = {
    "steps": [
        {
            "name": "webauthn: password",
            "method": "POST",
            "requests": 10,
            "failures": 2,
            "p50": 40,
            "p90": 90,
            "p95": 110,
            "p99": 130,
            "max": 131.4,
            "per_second": 1.25,
        },
        {
            "name": "totp: code",
            "method": "POST",
            "requests": 4,
            "failures": 0,
            "p50": 12,
            "p90": 20,
            "p95": 20,
            "p99": 20,
            "max": 21,
            "per_second": 0.5,
        },
        {
            "name": "user start",
            "method": "START",
            "requests": 1,
            "failures": 1,
            "p50": 0,
            "p90": 0,
            "p95": 0,
            "p99": 0,
            "max": 0,
            "per_second": 0.1,
        },
    ],
    "total": {
        "name": "Aggregated",
        "method": "",
        "requests": 15,
        "failures": 3,
        "p50": 20,
        "p90": 90,
        "p95": 110,
        "p99": 130,
        "max": 131.4,
        "per_second": 1.85,
    },
    "errors": [
        {"name": "webauthn: password", "method": "POST", "error": "answered 429", "occurrences": 2},
        {"name": "user start", "method": "START", "error": "no test account", "occurrences": 1},
    ],
    "exceptions": [],
}


class TestReport:
    def report(self) -> LoadReport:
        return LoadReport.from_results(
            RESULTS,
            target="http://localhost:1",
            users=2,
            spawn_rate=1.0,
            seconds=8,
            journeys=("totp", "webauthn"),
        )

    def test_steps_come_in_journey_order_with_their_percentiles(self) -> None:
        report = self.report()
        assert [step.name for step in report.steps] == [
            "totp: code",
            "webauthn: password",
            "user start",
        ]
        assert report.rows()[1] == (
            "webauthn: password",
            "10",
            "2",
            "40",
            "90",
            "110",
            "130",
            "131",
            "1.25",
        )
        assert report.rows()[-1][0] == "all steps"
        assert report.failures == 3

    def test_errors_are_grouped_by_message_most_frequent_first(self) -> None:
        table = self.report().table()
        assert "errors: 3" in table
        assert table.index("2x answered 429") < table.index("1x no test account")

    def test_summary_and_stats_say_the_same(self, tmp_path: Path) -> None:
        self.report().write(tmp_path)
        summary = (tmp_path / "summary.md").read_text()
        assert "| webauthn: password | 10 | 2 | 40 | 90 | 110 | 130 | 131 | 1.25 |" in summary
        stats = json.loads((tmp_path / "stats.json").read_text())
        assert stats["steps"][1]["p95"] == 110
        assert stats["errors"][0] == {
            "message": "answered 429",
            "occurrences": 2,
            "steps": ["webauthn: password"],
        }


@pytest.fixture
def load_target(server: BundledServer) -> Target:
    """The module's bundled server (tests/harness/conftest.py) as the journeys' target."""
    assert server.target is not None
    return server.target


class TestJourneys:
    """The journeys in process, against a bundled server, without Locust."""

    def test_recovery_codes_are_spent_once_and_regenerated_after_the_last(
        self, load_target: Target
    ) -> None:
        (account,) = provision(load_target, 1, ("recovery-code",))
        steps: list[StepResult] = []
        person = LoadUser(load_target.base_url, account, ("recovery-code",), steps.append)
        codes = len(account.recovery_codes)
        assert all(person.take(person.next_journey()) for _ in range(codes + 1))
        assert all(step.error is None for step in steps), [s.error for s in steps if s.error]
        taken = [step.name for step in steps]
        assert taken.count("recovery-code: code") == codes + 1
        assert taken.count("recovery-code: regenerate codes") == 1
        assert len(person.codes) == 7

    def test_totp_is_taken_once_per_time_step(self) -> None:
        now = [1_000_000_000.0]
        account = LoadAccount(
            "someone", Secret("a password"), Secret("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"), (), None
        )
        person = LoadUser(
            "http://localhost:1",
            account,
            ("totp", "webauthn"),
            lambda step: None,
            clock=lambda: now[0],
        )
        person._last_totp_step = person.totp.step()
        assert [person.next_journey() for _ in range(3)] == ["webauthn"] * 3
        now[0] += 30
        assert person.next_journey() == "totp"

    def test_a_refused_step_is_recorded_and_ends_the_journey(self, load_target: Target) -> None:
        (account,) = provision(load_target, 1, ("webauthn",))
        wrong = LoadAccount.from_json({**account.to_json(), "password": "not-the-password-1"})
        steps: list[StepResult] = []
        person = LoadUser(load_target.base_url, wrong, ("webauthn",), steps.append)
        assert not person.take("webauthn")
        assert [step.name for step in steps] == ["webauthn: login page", "webauthn: password"]
        assert steps[-1].error is not None and steps[-1].error.startswith("answered 200")
        assert "not-the-password-1" not in steps[-1].error


def harness_load(*arguments: str, tmp: Path) -> subprocess.Popen[str]:
    """``harness load`` in a subprocess whose temporary files go to ``tmp``."""
    tmp.mkdir(exist_ok=True)
    return subprocess.Popen(
        [*HARNESS, "load", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**_environment(), "TMPDIR": str(tmp)},
    )


def _environment() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key != "HARNESS_IMAP_URL"}


class AccountsFileWatch:
    """Reads the run's accounts file while it exists: its mode, and the secrets in it."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.mode: int | None = None
        self.secrets: set[str] = set()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._done.is_set() and not self.secrets:
            for path in self.tmp.glob("harness-load-*/accounts.json"):
                try:
                    self.mode = stat.S_IMODE(path.stat().st_mode)
                    plan = json.loads(path.read_text())
                except (OSError, ValueError):
                    continue
                for data in plan["accounts"]:
                    self.secrets.update(LoadAccount.from_json(data).secrets())
            time.sleep(0.05)

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


def _assert_no_secret_in(secrets: set[str], folder: Path, *outputs: str) -> None:
    assert secrets, "the accounts file was read"
    texts = {path.name: path.read_text() for path in folder.iterdir()}
    texts.update({f"output {n}": text for n, text in enumerate(outputs)})
    leaked = [
        (name, secret[:3]) for name, text in texts.items() for secret in secrets if secret in text
    ]
    assert leaked == []


class TestLoadCommand:
    """The command as a tester runs it: the bundled server, Locust in subprocesses."""

    def test_every_step_of_every_journey_is_reported_without_failures_or_secrets(
        self, tmp_path: Path
    ) -> None:
        out, tmp = tmp_path / "out", tmp_path / "tmp"
        started = time.monotonic()
        run = harness_load("--users=3", "--spawn-rate=3", "--duration=8s", f"--out={out}", tmp=tmp)
        watch = AccountsFileWatch(tmp)
        stdout, stderr = run.communicate(timeout=120)
        watch.stop()
        print(f"harness load took {time.monotonic() - started:.1f} s")
        assert run.returncode == 0, stderr
        stats = json.loads((out / "stats.json").read_text())
        steps = {step["name"]: step for step in stats["steps"]}
        assert set(ALWAYS_TAKEN) <= set(steps)
        for name in ALWAYS_TAKEN:
            assert steps[name]["requests"] > 0 and steps[name]["failures"] == 0, name
            assert 0 < steps[name]["p50"] <= steps[name]["p99"] <= steps[name]["max"] + 1, name
        assert stats["errors"] == []
        summary = (out / "summary.md").read_text()
        for name in ALWAYS_TAKEN:
            assert f"| {name} | {steps[name]['requests']} | 0 |" in summary
        assert "| step | requests | failures | p50 | p90 | p95 | p99 | max | req/s |" in summary
        assert "errors: none" in stdout and "totp: code" in stdout
        assert (out / "locust_stats.csv").exists()
        assert watch.mode == 0o600
        assert not list(tmp.glob("harness-load-*")), "the accounts file is deleted"
        _assert_no_secret_in(watch.secrets, out, stdout, stderr)

    def test_a_master_and_a_worker_run_the_journeys_together(self, tmp_path: Path) -> None:
        out, tmp = tmp_path / "out", tmp_path / "tmp"
        port = str(_free_port())
        worker = harness_load(
            "--worker", "--master-host=127.0.0.1", f"--master-port={port}", tmp=tmp
        )
        master = harness_load(
            "--users=2",
            "--spawn-rate=2",
            "--duration=5s",
            "--master",
            "--expect-workers=1",
            f"--master-port={port}",
            f"--out={out}",
            tmp=tmp,
        )
        watch = AccountsFileWatch(tmp)
        try:
            stdout, stderr = master.communicate(timeout=120)
            worker_out, worker_err = worker.communicate(timeout=30)
        finally:
            watch.stop()
            for process in (master, worker):
                if process.poll() is None:
                    process.kill()
        assert master.returncode == 0, stderr
        assert worker.returncode == 0, worker_err
        assert "1 workers connected" in (out / "locust.log").read_text()
        steps = {
            step["name"]: step for step in json.loads((out / "stats.json").read_text())["steps"]
        }
        for journey in JOURNEYS:
            assert steps[f"{journey}: password"]["requests"] > 0, journey
            assert steps[f"{journey}: log out"]["failures"] == 0, journey
        _assert_no_secret_in(watch.secrets, out, stdout, stderr, worker_out, worker_err)

    def test_a_server_that_stops_answering_shows_as_failures_grouped_by_message(
        self, tmp_path: Path
    ) -> None:
        out, tmp = tmp_path / "out", tmp_path / "tmp"
        run = harness_load(
            "--users=2",
            "--spawn-rate=2",
            "--duration=6s",
            "--journeys=webauthn",
            f"--out={out}",
            tmp=tmp,
        )
        log = out / "locust.log"
        deadline = time.monotonic() + 60
        while not (log.exists() and "All users spawned" in log.read_text()):
            assert time.monotonic() < deadline and run.poll() is None, run.communicate()
            time.sleep(0.1)
        time.sleep(1)
        (server,) = [
            child
            for child in psutil.Process(run.pid).children(recursive=True)
            if "reference_server" in " ".join(child.cmdline())
        ]
        server.terminate()
        stdout, stderr = run.communicate(timeout=120)
        assert run.returncode == 0, stderr
        stats = json.loads((out / "stats.json").read_text())
        assert stats["total"]["failures"] > 0
        assert stats["total"]["failures"] == sum(step["failures"] for step in stats["steps"])
        assert stats["total"]["requests"] > stats["total"]["failures"], "some steps ran first"
        (refused, *_) = stats["errors"]
        assert refused["message"].startswith("ConnectionError: ")
        assert refused["steps"] and all(step.startswith("webauthn: ") for step in refused["steps"])
        assert f"x {refused['message']}" in stdout
        assert "?token" not in json.dumps(stats) and "object at 0x" not in json.dumps(stats)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_each_journey_names_its_steps() -> None:
    assert set(STEPS) == set(JOURNEYS)
    assert step_names(("totp",))[:2] == ["totp: login page", "totp: password"]
