"""`harness guide`'s bad input: one line and exit status 2, before a browser or a server
starts and before anything is written to the report folder."""

from pathlib import Path

import pytest

from harness.cli import build_parser
from harness.guide import command, sandbox
from harness.guide.state import STATE_FILE, GuideState, save


def guide(tmp_path: Path, *options: str, environ: dict[str, str] | None = None) -> int:
    args = build_parser().parse_args(["guide", "--out", str(tmp_path / "out"), *options])
    vault = {"HARNESS_GUIDE_VAULT": str(tmp_path / "v")}
    return command.run(args, environ={**vault, **(environ or {})})


def test_an_unreadable_answers_file_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert guide(tmp_path, "--answers", str(tmp_path / "missing.toml")) == command.BAD_INPUT
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "cannot be read" in error
    assert not (tmp_path / "out").exists()


def test_answers_need_chromium(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.toml").write_text("", encoding="utf-8")
    options = ("--answers", str(tmp_path / "a.toml"), "--browser", "firefox")
    assert guide(tmp_path, *options) == command.BAD_INPUT
    assert "--browser chromium" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("url", "environ", "said"),
    [
        ("http://127.0.0.1:8000", {"HARNESS_USERNAME": "u", "HARNESS_PASSWORD": "p"}, "localhost"),
        ("http://localhost:8000", {}, "HARNESS_USERNAME and HARNESS_PASSWORD"),
        ("http://localhost:8000", {"HARNESS_USERNAME": "u"}, "HARNESS_PASSWORD"),
    ],
)
def test_a_remote_target_needs_a_webauthn_origin_and_the_account(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str, environ: dict, said: str
) -> None:
    assert guide(tmp_path, "--base-url", url, environ=environ) == command.BAD_INPUT
    assert said in capsys.readouterr().err
    assert not (tmp_path / "out" / STATE_FILE).exists()


def test_a_folder_of_another_target_is_not_resumed_elsewhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    save(tmp_path / "out", GuideState.new("http://localhost:9999", "0.1.0", ["totp-setup"]))
    environ = {"HARNESS_USERNAME": "u", "HARNESS_PASSWORD": "p"}

    status = guide(tmp_path, "--base-url", "http://localhost:8000", environ=environ)

    assert status == command.BAD_INPUT
    assert "holds a session of http://localhost:9999" in capsys.readouterr().err


def test_a_finished_sandbox_session_is_not_started_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = GuideState.new(sandbox.DESCRIPTION, "0.1.0", [])
    save(tmp_path / "out", state)

    assert guide(tmp_path) == command.BAD_INPUT
    assert "is finished: give another --out" in capsys.readouterr().err
