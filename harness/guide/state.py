"""A guided session's state, kept in its report folder (``guide-state.json``) so that it can be
stopped and resumed: the tester's set-up, the journeys done with their step results and
answers, the journey in progress, and what the guide set up on the account (for undo).

The file is rewritten after every step, atomically (a temporary file in the same folder, then
:func:`os.replace`): a session stopped at any moment, even by a crash, leaves either the old
state or the new one. A file that is not a state this harness wrote for the same session
(corrupt, foreign, of a later format) is refused in one line and never overwritten.

No secret is ever kept here: the tester's password, TOTP seed and recovery codes are not
fields of the state, and every value any :class:`~harness.redaction.Secret` of this process
holds is masked before writing (as in reports), in case a driver's one-line ``actual`` quoted
one. A secret needed across runs (a software stand-in's TOTP seed) is kept in the vault
(:mod:`harness.guide.vault`), outside the report folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.guide.feedback import Feedback, TesterEnvironment
from harness.guide.journeys import AccountChange, ChangeKind, CheckResult, Outcome, StepResult
from harness.redaction import known_secrets
from harness.report.scrub import scrub_text
from harness.staging import AccountState

STATE_FILE = "guide-state.json"
FORMAT = "harness-guide-state"
VERSION = 1


class GuideStateError(HarnessError):
    """The state file cannot be read as this session's, or cannot be written."""


@dataclass(frozen=True)
class StepRecord:
    """A step's result, under the step's id."""

    step_id: str
    result: StepResult


@dataclass(frozen=True)
class JourneyRecord:
    """A journey as far as it went: its steps' results in order, and the tester's answers
    once it is done (None while it is in progress)."""

    journey_id: str
    steps: tuple[StepRecord, ...] = ()
    feedback: Feedback | None = None

    @property
    def seconds(self) -> float:
        """The time its steps took."""
        return sum(record.result.seconds for record in self.steps)


@dataclass
class GuideState:
    """One guided session. Changed by its methods, saved by :func:`save`.

    :param session: an id of its own, so that no other session's file is overwritten.
    :param target: the URL tested, or the bundled server's description.
    :param harness_version: the harness's version.
    :param started: when the session began (ISO 8601, UTC).
    :param plan: the journeys' ids, in the order they are gone through.
    :param environment: what the tester said they use, once asked.
    :param account_before: the account as it was before the guide changed it, for undo.
    :param done: the journeys finished, in order.
    :param current: the journey in progress.
    :param changes: what the guide set up on the account and has not undone, in order.
    """

    session: str
    target: str
    harness_version: str
    started: str
    plan: list[str]
    environment: TesterEnvironment | None = None
    account_before: AccountState | None = None
    done: list[JourneyRecord] = field(default_factory=list)
    current: JourneyRecord | None = None
    changes: list[AccountChange] = field(default_factory=list)

    @classmethod
    def new(cls, target: str, harness_version: str, plan: list[str]) -> GuideState:
        """A session starting now, with none of its journeys done."""
        started = datetime.now(UTC).isoformat(timespec="seconds")
        return cls(secrets.token_hex(8), target, harness_version, started, list(plan))

    def next_journey(self) -> str | None:
        """The journey to go on with: the one in progress, else the first of the plan not done;
        None when every journey of the plan is done."""
        if self.current is not None:
            return self.current.journey_id
        finished = {record.journey_id for record in self.done}
        return next((journey_id for journey_id in self.plan if journey_id not in finished), None)

    def begin(self, journey_id: str) -> None:
        """Start ``journey_id`` from its first step; the steps of an earlier, interrupted try of
        it are dropped (its account changes are kept, to be undone)."""
        if any(record.journey_id == journey_id for record in self.done):
            raise GuideStateError(f"the journey {journey_id} is already done in this session")
        if self.current is not None and self.current.journey_id != journey_id:
            raise GuideStateError(
                f"the journey {self.current.journey_id} is in progress, not {journey_id}"
            )
        self.current = JourneyRecord(journey_id)

    def record_step(self, step_id: str, result: StepResult) -> None:
        """Add a step's result to the journey in progress, and what it set up on the account
        or removed to :attr:`changes`."""
        current = self._current()
        self.current = JourneyRecord(
            current.journey_id, (*current.steps, StepRecord(step_id, result))
        )
        for change in result.set_up:
            self.set_up(change)
        for change in result.removed:
            self.undone(change)

    def finish(self, feedback: Feedback) -> None:
        """End the journey in progress with the tester's answers."""
        current = self._current()
        self.done.append(JourneyRecord(current.journey_id, current.steps, feedback))
        self.current = None

    def set_up(self, change: AccountChange) -> None:
        """Record that the guide set ``change`` up on the account. Recovery codes are recorded
        once, whichever journeys made them: an account has one set, each new one replacing
        the last."""
        if change.kind is ChangeKind.RECOVERY_CODES:
            self.changes = [c for c in self.changes if c.kind is not ChangeKind.RECOVERY_CODES]
        if change not in self.changes:
            self.changes.append(change)

    def undone(self, change: AccountChange) -> None:
        """Record that ``change`` was undone (or removed by a journey, like remove-method)."""
        if change in self.changes:
            self.changes.remove(change)

    def _current(self) -> JourneyRecord:
        if self.current is None:
            raise GuideStateError("no journey is in progress")
        return self.current


@dataclass(frozen=True)
class Resumption:
    """A stopped session, and where it goes on: :attr:`journey_id` from its first step, or
    None when every journey is done (only the undo may be left)."""

    state: GuideState
    journey_id: str | None


def state_path(folder: Path) -> Path:
    """Where a session in the report ``folder`` keeps its state."""
    return folder / STATE_FILE


def save(folder: Path, state: GuideState) -> Path:
    """Write ``state`` to the folder's state file, atomically; the file's path.

    Every known secret's value is masked first (see the module's docstring).

    :raises GuideStateError: the folder holds the state file of another session, or one this
        harness cannot read (it is left as it is); or the file cannot be written.
    """
    path = state_path(folder)
    if path.exists():
        found = _read(path)
        if found.get("session") != state.session:
            raise GuideStateError(
                f"{path} belongs to another guided session: resume that one, or choose another"
                " report folder"
            )
    text = scrub_text(json.dumps(to_json(state), indent=2, ensure_ascii=False), known_secrets())
    folder.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{STATE_FILE}.", dir=folder)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text + "\n")
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise GuideStateError(f"{path} cannot be written: {error.strerror}") from None
    return path


def load(folder: Path) -> GuideState | None:
    """The state kept in ``folder``, or None when it holds none.

    :raises GuideStateError: the state file is corrupt, foreign or of a later format.
    """
    path = state_path(folder)
    if not path.exists():
        return None
    try:
        return from_json(_read(path))
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise GuideStateError(_refusal(path, f"it lacks or mangles {error}")) from None


def resume(folder: Path) -> Resumption | None:
    """The session stopped in ``folder`` and the journey it goes on with, or None when the
    folder holds no session.

    :raises GuideStateError: as :func:`load`.
    """
    state = load(folder)
    if state is None:
        return None
    return Resumption(state, state.next_journey())


def to_json(state: GuideState) -> dict[str, Any]:
    """``state`` as JSON values, marked with :data:`FORMAT` and :data:`VERSION`."""
    before = state.account_before
    return {
        "format": FORMAT,
        "version": VERSION,
        "session": state.session,
        "target": state.target,
        "harness_version": state.harness_version,
        "started": state.started,
        "plan": list(state.plan),
        "environment": asdict(state.environment) if state.environment else None,
        "account_before": None
        if before is None
        else {
            "totp": before.totp,
            "security_keys": sorted(before.security_keys),
            "api_tokens": sorted(before.api_tokens),
            "projects": sorted(before.projects),
            "recovery_codes": before.recovery_codes,
        },
        "done": [_journey_to_json(record) for record in state.done],
        "current": _journey_to_json(state.current) if state.current else None,
        "changes": [_change_to_json(change) for change in state.changes],
    }


def from_json(data: dict[str, Any]) -> GuideState:
    """The state :func:`to_json` gave.

    :raises ValueError: the data is not a state of :data:`FORMAT` up to :data:`VERSION`
        (KeyError and TypeError for missing or mistyped fields).
    """
    if data.get("format") != FORMAT:
        raise ValueError("format")
    if not isinstance(data["version"], int) or not 1 <= data["version"] <= VERSION:
        raise ValueError(f"version {data['version']!r}")
    before = data["account_before"]
    environment = data["environment"]
    state = GuideState(
        session=_text(data["session"]),
        target=_text(data["target"]),
        harness_version=_text(data["harness_version"]),
        started=_text(data["started"]),
        plan=[_text(journey_id) for journey_id in _list(data["plan"])],
        environment=None
        if environment is None
        else TesterEnvironment(**{k: _text(v) for k, v in environment.items()}),
        account_before=None
        if before is None
        else AccountState(
            totp=bool(before["totp"]),
            security_keys=frozenset(map(_text, _list(before["security_keys"]))),
            api_tokens=frozenset(map(_text, _list(before["api_tokens"]))),
            projects=frozenset(map(_text, _list(before["projects"]))),
            recovery_codes=None
            if before["recovery_codes"] is None
            else _flag(before["recovery_codes"]),
        ),
        done=[_journey_from_json(record) for record in _list(data["done"])],
        current=_journey_from_json(data["current"]) if data["current"] else None,
        changes=[_change_from_json(change) for change in _list(data["changes"])],
    )
    return state


def _journey_to_json(record: JourneyRecord) -> dict[str, Any]:
    return {
        "journey_id": record.journey_id,
        "steps": [
            {"step_id": step.step_id, **_result_to_json(step.result)} for step in record.steps
        ],
        "feedback": asdict(record.feedback) if record.feedback else None,
    }


def _journey_from_json(data: dict[str, Any]) -> JourneyRecord:
    feedback = data["feedback"]
    return JourneyRecord(
        _text(data["journey_id"]),
        tuple(
            StepRecord(_text(step["step_id"]), _result_from_json(step))
            for step in _list(data["steps"])
        ),
        None if feedback is None else _feedback_from_json(feedback),
    )


def _result_to_json(result: StepResult) -> dict[str, Any]:
    return {
        "outcome": result.outcome.value,
        "actual": result.actual,
        "seconds": result.seconds,
        "screenshot": result.screenshot.as_posix() if result.screenshot else None,
        "checks": [asdict(check) for check in result.checks],
        "set_up": [_change_to_json(change) for change in result.set_up],
        "removed": [_change_to_json(change) for change in result.removed],
        "unneeded": list(result.unneeded),
    }


def _result_from_json(data: dict[str, Any]) -> StepResult:
    seconds = data["seconds"]
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise TypeError("seconds")
    return StepResult(
        outcome=Outcome(data["outcome"]),
        actual=_text(data["actual"]),
        seconds=float(seconds),
        screenshot=Path(_text(data["screenshot"])) if data["screenshot"] else None,
        checks=tuple(
            CheckResult(
                _text(check["check"]),
                _flag(check["passed"]),
                _text(check["detail"]),
                _flag(check["security"]),
            )
            for check in _list(data["checks"])
        ),
        set_up=tuple(_change_from_json(change) for change in _list(data["set_up"])),
        removed=tuple(_change_from_json(change) for change in _list(data["removed"])),
        # "unneeded" came with the recovery codes asked for first: older states have none.
        unneeded=tuple(map(_text, _list(data.get("unneeded", [])))),
    )


def _change_to_json(change: AccountChange) -> dict[str, str]:
    return {
        "kind": change.kind.value,
        "name": change.name,
        "journey_id": change.journey_id,
        "project": change.project,
    }


def _change_from_json(data: dict[str, Any]) -> AccountChange:
    # "project" came with the destructive journeys: a state saved before them has none.
    return AccountChange(
        ChangeKind(data["kind"]),
        _text(data["name"]),
        _text(data["journey_id"]),
        _text(data.get("project", "")),
    )


def _feedback_from_json(data: dict[str, Any]) -> Feedback:
    rating = data["rating"]
    if isinstance(rating, bool) or not isinstance(rating, int):
        raise TypeError("rating")
    return Feedback(
        worked=_flag(data["worked"]),
        rating=rating,
        confusing=_text(data["confusing"]),
        accessibility=_text(data["accessibility"]),
        comment=_text(data["comment"]),
    )


def _list(value: object) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"{value!r} is not a list")
    return value


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{value!r} is not text")
    return value


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{value!r} is not true or false")
    return value


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise GuideStateError(f"{path} cannot be read: {error.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise GuideStateError(_refusal(path, "it is not JSON")) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise GuideStateError(_refusal(path, "it is not a guided session's state"))
    return data


def _refusal(path: Path, reason: str) -> str:
    return (
        f"{path} cannot be resumed ({reason}); it is left as it is: move it away, or choose"
        " another report folder"
    )
