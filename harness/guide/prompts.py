"""Everything the guide asks the person, behind one interface (:class:`Prompts`), with two
implementations: :class:`TerminalPrompts` asks on a terminal, keyboard only; and
:class:`ScriptedPrompts` takes every answer from a TOML file, so CI can run a whole session
with software authenticators standing in for the person.

Each question is named by where it is asked (a journey's id, or ``environment``) and a key
(``worked``, ``rating``, a step's id…): the names a scripted file answers by.

The person can stop at any question: :exc:`GuideStopped` is raised, and the guide keeps its
state to resume later.

Scripted answers file::

    [environment]               # what the tester uses
    browser = "Firefox 128"
    os = "Debian 12"
    key = "YubiKey 5 NFC"
    app = "Aegis"

    [guide]
    stop_at = "key-login"       # optional: stop at this journey's first question, as if the
                                # person had typed "stop" there (to test resuming)

    [journeys.totp-setup]       # one table per journey
    steps = { scan-qr-code = "done", read-setup-page = "skip" }  # each person's step:
    worked = true                                                # "done", "skip" or "stop"
    confusing = "Where the code box was"
    rating = 4
    comment = ""                # optional text may be left out: it reads as no answer

Any other question is answered by its key in its table (``[guide]`` for questions about the
session itself). A file lacking an answer, or with an answer of the wrong kind, stops the guide
with one line naming the table and the key.
"""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Callable, Collection, Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any, NoReturn, Protocol, TextIO, TypeVar

from harness.errors import HarnessError
from harness.guide.journeys import Action, Step

STOP = "stop"
SKIP = "skip"
ENVIRONMENT = "environment"
GUIDE = "guide"
"""Where questions about the session itself (run the destructive journeys? undo?) are asked."""

LOW, HIGH = 1, 5

_WAIT_HINTS = {
    Action.SCAN_QR: "Press Enter when you have scanned the code",
    Action.TYPE_CODE: "Press Enter when you have typed the code",
    Action.TOUCH_KEY: "Press Enter when you have touched your key",
    Action.SCREEN_READER_READ: "Press Enter when you have read the page",
    Action.CONFIRM: "Press Enter when you are ready",
}

Answer = TypeVar("Answer")


class GuideStopped(Exception):
    """The person asked to stop (typed ``stop``, pressed Ctrl-C or closed the input), or a
    scripted file said to stop there. Not an error: the guide saves its state and ends."""


class ScriptError(HarnessError):
    """A scripted answers file is unreadable, or lacks an answer or has one of the wrong kind."""


class Reply(StrEnum):
    """What the person says when the guide waited for them."""

    DONE = "done"
    SKIP = "skip"


class Prompts(Protocol):
    """What the guide asks and tells the person.

    Every question may raise :exc:`GuideStopped`. ``where`` is the journey's id (or
    :data:`ENVIRONMENT`, :data:`GUIDE`); ``key`` names the question there.
    """

    def say(self, line: str) -> None:
        """Tell the person something: narration, what should happen. One line of plain text."""
        ...

    def wait_for_person(self, where: str, step: Step) -> Reply:
        """Wait until the person has done ``step`` (a person's step) or chosen to skip it."""
        ...

    def yes_no(self, where: str, key: str, question: str) -> bool:
        """A yes or a no."""
        ...

    def rating(self, where: str, key: str, question: str) -> int:
        """A whole number from :data:`LOW` to :data:`HIGH`."""
        ...

    def text(self, where: str, key: str, question: str, *, optional: bool = True) -> str:
        """Free text on one line, stripped; ``""`` for no answer when ``optional``."""
        ...

    def choose(self, where: str, key: str, question: str, names: Sequence[str]) -> str:
        """One of ``names``."""
        ...


class TerminalPrompts:
    """Asks on a terminal, keyboard only: a question is one line, the answer one line typed
    and Enter. Plain lines and no cursor movement or colour, so a screen reader reads each as
    it comes. A bad answer is asked again after one line saying why. ``stop`` (any case), Ctrl-C
    or the end of input stop the guide.
    """

    def __init__(self, stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
        self.stdin = stdin if stdin is not None else sys.stdin
        self.stdout = stdout if stdout is not None else sys.stdout

    def say(self, line: str) -> None:
        self._print(line)

    def wait_for_person(self, where: str, step: Step) -> Reply:
        assert step.action is not None, "a harness step needs no person"
        prompt = f"{_WAIT_HINTS[step.action]}; type skip to skip it, or stop to stop here:"

        def parse(answer: str) -> Reply:
            if answer == "":
                return Reply.DONE
            if answer.lower() == SKIP:
                return Reply.SKIP
            raise ValueError("press Enter alone, or type skip or stop")

        return self._ask(prompt, parse)

    def yes_no(self, where: str, key: str, question: str) -> bool:
        def parse(answer: str) -> bool:
            if answer.lower() in ("y", "yes"):
                return True
            if answer.lower() in ("n", "no"):
                return False
            raise ValueError("type yes or no")

        return self._ask(f"{question} (yes or no):", parse)

    def rating(self, where: str, key: str, question: str) -> int:
        def parse(answer: str) -> int:
            if answer.isdigit() and LOW <= int(answer) <= HIGH:
                return int(answer)
            raise ValueError(f"type a whole number from {LOW} to {HIGH}")

        return self._ask(f"{question} ({LOW} to {HIGH}):", parse)

    def text(self, where: str, key: str, question: str, *, optional: bool = True) -> str:
        def parse(answer: str) -> str:
            if answer or optional:
                return answer
            raise ValueError("an answer is needed here")

        hint = " (press Enter to leave it)" if optional else ""
        return self._ask(f"{question}{hint}:", parse)

    def choose(self, where: str, key: str, question: str, names: Sequence[str]) -> str:
        for number, name in enumerate(names, 1):
            self._print(f"  {number}. {name}")

        def parse(answer: str) -> str:
            if answer.isdigit() and 1 <= int(answer) <= len(names):
                return names[int(answer) - 1]
            for name in names:
                if answer.lower() == name.lower():
                    return name
            raise ValueError(f"type a number from 1 to {len(names)}, or one of the names")

        return self._ask(f"{question} (type its number or name):", parse)

    def _ask(self, prompt: str, parse: Callable[[str], Answer]) -> Answer:
        while True:
            self.stdout.write(prompt + " ")
            self.stdout.flush()
            try:
                line = self.stdin.readline()
            except KeyboardInterrupt:
                self._print("")
                raise GuideStopped("stopped with Ctrl-C") from None
            if line == "":
                self._print("")
                raise GuideStopped("the input ended")
            answer = line.strip()
            if answer.lower() == STOP:
                raise GuideStopped("stopped at the tester's request")
            try:
                return parse(answer)
            except ValueError as reason:
                self._print(f"Sorry: {reason}.")

    def _print(self, line: str) -> None:
        self.stdout.write(line + "\n")
        self.stdout.flush()


class ScriptedPrompts:
    """Answers every question from a scripted answers file (see the module's docstring).

    What the guide says, and each question with the answer given, is kept in :attr:`transcript`
    (and written to ``echo`` when one is given), so a CI log shows the session.

    :param answers: the file's tables, as :func:`tomllib.load` reads them.
    :param source: the file's name, for messages.
    :param journey_ids: when given, a ``[journeys.X]`` table or a ``stop_at`` naming any other
        journey is refused (a typo would otherwise leave it unanswered late in the session).
    :raises ScriptError: the answers are not tables of the expected shape.
    """

    def __init__(
        self,
        answers: Mapping[str, Any],
        source: str = "the scripted answers",
        journey_ids: Collection[str] | None = None,
        echo: TextIO | None = None,
    ) -> None:
        self.source = source
        self.echo = echo
        self.transcript: list[str] = []
        self._tables: dict[str, Mapping[str, Any]] = {}
        for name in (ENVIRONMENT, GUIDE):
            self._tables[name] = self._table(answers.get(name, {}), f"[{name}]")
        journeys = self._table(answers.get("journeys", {}), "[journeys]")
        for journey_id, table in journeys.items():
            if journey_ids is not None and journey_id not in journey_ids:
                self._fail(f"[journeys.{journey_id}] names no journey")
            self._tables[journey_id] = self._table(table, f"[journeys.{journey_id}]")
        self.stop_at: str | None = self._tables[GUIDE].get("stop_at")
        if self.stop_at is not None and (
            not isinstance(self.stop_at, str)
            or (journey_ids is not None and self.stop_at not in journey_ids)
        ):
            self._fail(f"[guide] stop_at = {self.stop_at!r} names no journey")

    @classmethod
    def from_file(
        cls, path: Path, journey_ids: Collection[str] | None = None, echo: TextIO | None = None
    ) -> ScriptedPrompts:
        """The prompts answering from the TOML file at ``path``.

        :raises ScriptError: it cannot be read, is not TOML, or is of the wrong shape.
        """
        try:
            answers = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise ScriptError(f"{path}: cannot be read: {error.strerror}") from None
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            reason = str(error).splitlines()[0] if str(error) else "not UTF-8"
            raise ScriptError(f"{path}: not a TOML file: {reason}") from None
        return cls(answers, str(path), journey_ids, echo)

    def say(self, line: str) -> None:
        self._log(line)

    def wait_for_person(self, where: str, step: Step) -> Reply:
        self._stop_if_asked(where)
        steps = self._tables.get(where, {}).get("steps", {})
        if not isinstance(steps, Mapping):
            self._fail(f"[journeys.{where}] steps must be a table of step ids")
        if step.id not in steps:
            self._fail(f"[journeys.{where}] steps has no answer for the step {step.id!r}")
        answer = steps[step.id]
        if answer == STOP:
            self._log(f"{where}/{step.id}: {STOP}")
            raise GuideStopped(f"{self.source} says to stop at {where}/{step.id}")
        if answer not in (Reply.DONE, Reply.SKIP):
            self._fail(
                f"[journeys.{where}] steps.{step.id} must be done, skip or stop, not {answer!r}"
            )
        self._log(f"{where}/{step.id}: {answer}")
        return Reply(answer)

    def yes_no(self, where: str, key: str, question: str) -> bool:
        return self._answer(where, key, question, bool, "true or false")

    def rating(self, where: str, key: str, question: str) -> int:
        answer = self._answer(where, key, question, int, f"a whole number from {LOW} to {HIGH}")
        if isinstance(answer, bool) or not LOW <= answer <= HIGH:
            self._fail(
                f"{self._name(where)} {key} must be a whole number from {LOW} to {HIGH},"
                f" not {answer!r}"
            )
        return answer

    def text(self, where: str, key: str, question: str, *, optional: bool = True) -> str:
        if optional and key not in self._tables.get(where, {}):
            self._stop_if_asked(where)
            self._log(f"{question} -> (no answer)")
            return ""
        answer = self._answer(where, key, question, str, "text").strip()
        if not answer and not optional:
            self._fail(f"{self._name(where)} {key} must not be empty")
        return answer

    def choose(self, where: str, key: str, question: str, names: Sequence[str]) -> str:
        answer = self._answer(where, key, question, str, f"one of {', '.join(names)}")
        if answer not in names:
            self._fail(f"{self._name(where)} {key} must be one of {', '.join(names)}")
        return answer

    def _answer(
        self, where: str, key: str, question: str, kind: type[Answer], described: str
    ) -> Answer:
        self._stop_if_asked(where)
        table = self._tables.get(where, {})
        if key not in table:
            self._fail(f"{self._name(where)} has no answer for {key!r} ({question})")
        answer = table[key]
        # bool is an int in Python, but true is no rating: kinds must match exactly.
        if type(answer) is not kind:
            self._fail(f"{self._name(where)} {key} must be {described}, not {answer!r}")
        self._log(f"{question} -> {answer}")
        return answer

    def _stop_if_asked(self, where: str) -> None:
        if where == self.stop_at:
            self._log(f"{where}: {STOP}")
            raise GuideStopped(f"{self.source} says to stop at {where} (stop_at)")

    def _table(self, value: object, name: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self._fail(f"{name} must be a table")
        return value

    def _name(self, where: str) -> str:
        table = where if where in (ENVIRONMENT, GUIDE) else f"journeys.{where}"
        return f"[{table}]"

    def _fail(self, problem: str) -> NoReturn:
        raise ScriptError(f"{self.source}: {problem}")

    def _log(self, line: str) -> None:
        self.transcript.append(line)
        if self.echo is not None:
            self.echo.write(line + "\n")
