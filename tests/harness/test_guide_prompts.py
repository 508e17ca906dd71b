"""What the guide asks the person: on a terminal (keyboard only) and from a scripted file."""

import io
from pathlib import Path

import pytest

from harness.guide.feedback import (
    Feedback,
    TesterEnvironment,
    ask_environment,
    ask_feedback,
)
from harness.guide.journeys import CATALOGUE, journey
from harness.guide.prompts import (
    GuideStopped,
    Reply,
    ScriptedPrompts,
    ScriptError,
    TerminalPrompts,
)

IDS = [j.id for j in CATALOGUE]
SCAN = journey("totp-setup").step("scan-qr-code")


def terminal(typed: str) -> tuple[TerminalPrompts, io.StringIO]:
    shown = io.StringIO()
    return TerminalPrompts(io.StringIO(typed), shown), shown


class Interrupted(io.StringIO):
    def readline(self, size: int = -1) -> str:
        raise KeyboardInterrupt


class TestTerminalPrompts:
    def test_enter_means_done_and_skip_skips(self) -> None:
        prompts, shown = terminal("\nskip\n")
        assert prompts.wait_for_person("totp-setup", SCAN) == Reply.DONE
        assert prompts.wait_for_person("totp-setup", SCAN) == Reply.SKIP
        assert "Press Enter when you have scanned the code" in shown.getvalue()

    def test_bad_rating_is_asked_again_with_a_reason(self) -> None:
        prompts, shown = terminal("7\nfour\n4\n")
        assert prompts.rating("totp-setup", "rating", "How easy was it?") == 4
        lines = shown.getvalue().splitlines()
        reasons = [line for line in lines if "Sorry" in line]
        assert len(reasons) == 2
        assert all("type a whole number from 1 to 5" in line for line in reasons)

    @pytest.mark.parametrize("typed", ["stop\n", "STOP\n", ""])
    def test_stop_or_end_of_input_stops(self, typed: str) -> None:
        prompts, _ = terminal(typed)
        with pytest.raises(GuideStopped):
            prompts.yes_no("totp-setup", "worked", "Did it work?")

    def test_ctrl_c_stops_cleanly(self) -> None:
        shown = io.StringIO()
        prompts = TerminalPrompts(Interrupted(), shown)
        with pytest.raises(GuideStopped, match="Ctrl-C"):
            prompts.wait_for_person("totp-setup", SCAN)

    def test_yes_no_accepts_words_and_letters(self) -> None:
        prompts, shown = terminal("maybe\ny\nNo\n")
        assert prompts.yes_no("x", "worked", "Did it work?") is True
        assert prompts.yes_no("x", "worked", "Did it work?") is False
        assert "Sorry: type yes or no." in shown.getvalue()

    def test_text_is_optional_unless_said(self) -> None:
        prompts, shown = terminal("\n\n  Firefox 128 \n")
        assert prompts.text("environment", "key", "Which key?") == ""
        assert prompts.text("environment", "browser", "Which?", optional=False) == "Firefox 128"
        assert "Sorry: an answer is needed here." in shown.getvalue()

    def test_choose_by_number_or_name(self) -> None:
        prompts, shown = terminal("3\n2\nfirefox\n")
        names = ["chromium", "firefox"]
        assert prompts.choose("guide", "browser", "Which browser?", names) == "firefox"
        assert prompts.choose("guide", "browser", "Which browser?", names) == "firefox"
        text = shown.getvalue()
        assert "  1. chromium\n  2. firefox\n" in text
        assert "Sorry: type a number from 1 to 2, or one of the names." in text

    def test_output_is_plain_lines_without_cursor_tricks(self) -> None:
        prompts, shown = terminal("\n5\n")
        prompts.say("The guide opens your account's settings.")
        prompts.wait_for_person("totp-setup", SCAN)
        prompts.rating("totp-setup", "rating", "How easy was it?")
        assert "\x1b" not in shown.getvalue() and "\r" not in shown.getvalue()


ANSWERS = """
[environment]
browser = "Firefox 128"
os = "Debian 12"
key = "YubiKey 5 NFC"

[journeys.totp-setup]
steps = { scan-qr-code = "done", read-setup-page = "skip", type-app-code = "stop" }
worked = true
confusing = "Where the code box was"
rating = 4
comment = "Fine"
"""


def scripted(tmp_path: Path, text: str = ANSWERS) -> ScriptedPrompts:
    path = tmp_path / "answers.toml"
    path.write_text(text, encoding="utf-8")
    return ScriptedPrompts.from_file(path, IDS)


class TestScriptedPrompts:
    def test_every_kind_is_answered(self, tmp_path: Path) -> None:
        text = ANSWERS + '\n[guide]\nbrowser = "firefox"\nundo = false\n'
        prompts = scripted(tmp_path, text)
        setup = journey("totp-setup")
        assert prompts.wait_for_person("totp-setup", SCAN) == Reply.DONE
        assert prompts.wait_for_person("totp-setup", setup.step("read-setup-page")) == Reply.SKIP
        assert prompts.yes_no("totp-setup", "worked", "Did it work?") is True
        assert prompts.rating("totp-setup", "rating", "How easy?") == 4
        assert prompts.text("totp-setup", "comment", "Anything else?") == "Fine"
        assert prompts.choose("guide", "browser", "Which?", ["chromium", "firefox"]) == "firefox"
        assert prompts.yes_no("guide", "undo", "Undo?") is False

    def test_the_questions_asked_are_answered(self, tmp_path: Path) -> None:
        prompts = scripted(tmp_path)
        assert ask_environment(prompts) == TesterEnvironment(
            "Firefox 128", "Debian 12", "YubiKey 5 NFC", ""
        )
        assert ask_feedback(prompts, journey("totp-setup")) == Feedback(
            worked=True, rating=4, confusing="Where the code box was", comment="Fine"
        )
        assert "Did 'Set up your phone's authenticator app' work for you? -> True" in (
            prompts.transcript
        )

    def test_a_step_scripted_to_stop_stops(self, tmp_path: Path) -> None:
        prompts = scripted(tmp_path)
        with pytest.raises(GuideStopped, match="totp-setup/type-app-code"):
            prompts.wait_for_person("totp-setup", journey("totp-setup").step("type-app-code"))

    def test_stop_at_stops_at_the_journeys_first_question(self, tmp_path: Path) -> None:
        prompts = scripted(tmp_path, ANSWERS + '\n[guide]\nstop_at = "key-login"\n')
        assert prompts.stop_at == "key-login"
        with pytest.raises(GuideStopped, match="stop_at"):
            prompts.wait_for_person("key-login", journey("key-login").step("touch-key"))
        with pytest.raises(GuideStopped):
            prompts.text("key-login", "comment", "Anything else?")

    @pytest.mark.parametrize(
        ("ask", "expected"),
        [
            (
                lambda p: p.rating("key-setup", "rating", "How easy?"),
                "[journeys.key-setup] has no answer for 'rating' (How easy?)",
            ),
            (
                lambda p: p.wait_for_person(
                    "totp-setup", journey("totp-setup").step("open-app-setup")
                ),
                "[journeys.totp-setup] steps has no answer for the step 'open-app-setup'",
            ),
            (
                lambda p: p.text("environment", "os2", "Which OS?", optional=False),
                "[environment] has no answer for 'os2' (Which OS?)",
            ),
        ],
    )
    def test_a_missing_answer_is_one_line_naming_it(self, tmp_path, ask, expected) -> None:
        prompts = scripted(tmp_path)
        with pytest.raises(ScriptError) as error:
            ask(prompts)
        assert str(error.value) == f"{tmp_path / 'answers.toml'}: {expected}"

    @pytest.mark.parametrize(
        ("line", "ask", "expected"),
        [
            ("rating = true", lambda p: p.rating("key-setup", "rating", "?"), "a whole number"),
            ("rating = 6", lambda p: p.rating("key-setup", "rating", "?"), "from 1 to 5, not 6"),
            ('worked = "yes"', lambda p: p.yes_no("key-setup", "worked", "?"), "true or false"),
            ("comment = 3", lambda p: p.text("key-setup", "comment", "?"), "text, not 3"),
            (
                'steps = { touch-key = "ok" }',
                lambda p: p.wait_for_person("key-setup", journey("key-setup").step("touch-key")),
                "steps.touch-key must be done, skip or stop, not 'ok'",
            ),
        ],
    )
    def test_a_wrong_kind_is_one_line_naming_it(self, tmp_path, line, ask, expected) -> None:
        prompts = scripted(tmp_path, f"[journeys.key-setup]\n{line}\n")
        with pytest.raises(ScriptError) as error:
            ask(prompts)
        message = str(error.value)
        assert "\n" not in message and "[journeys.key-setup]" in message
        assert expected in message

    def test_an_unknown_journey_is_refused_at_once(self, tmp_path: Path) -> None:
        with pytest.raises(ScriptError, match=r"\[journeys.totp-setpu\] names no journey"):
            scripted(tmp_path, "[journeys.totp-setpu]\nrating = 3\n")
        with pytest.raises(ScriptError, match="stop_at = 'nowhere' names no journey"):
            scripted(tmp_path, '[guide]\nstop_at = "nowhere"\n')

    def test_a_file_that_is_not_toml_is_one_line(self, tmp_path: Path) -> None:
        with pytest.raises(ScriptError) as error:
            scripted(tmp_path, "[environment\nbrowser = ")
        assert "not a TOML file" in str(error.value) and "\n" not in str(error.value)
        with pytest.raises(ScriptError, match="cannot be read"):
            ScriptedPrompts.from_file(tmp_path / "missing.toml")

    def test_optional_text_may_be_left_out(self, tmp_path: Path) -> None:
        prompts = scripted(tmp_path)
        assert prompts.text("key-setup", "comment", "Anything else?") == ""
        assert prompts.text("environment", "app", "Which app?") == ""

    def test_what_is_said_is_echoed(self, tmp_path: Path) -> None:
        echo = io.StringIO()
        path = tmp_path / "answers.toml"
        path.write_text(ANSWERS, encoding="utf-8")
        prompts = ScriptedPrompts.from_file(path, IDS, echo=echo)
        prompts.say("The guide opens your settings.")
        prompts.wait_for_person("totp-setup", SCAN)
        assert echo.getvalue() == "The guide opens your settings.\ntotp-setup/scan-qr-code: done\n"


def test_the_questions_after_a_journey_on_a_terminal() -> None:
    prompts, shown = terminal("maybe\nyes\n\n0\n3\n\nToo many windows\n")
    assert ask_feedback(prompts, journey("key-login")) == Feedback(
        worked=True, rating=3, comment="Too many windows"
    )
    text = shown.getvalue()
    assert "Did 'Log in with your security key' work for you? (yes or no):" in text
    assert "Sorry: type yes or no." in text
    assert "Sorry: type a whole number from 1 to 5." in text
