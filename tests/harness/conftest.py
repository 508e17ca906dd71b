"""Fixtures shared by the harness's unit tests."""

import os
import re
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from harness.guide.journeys import Journey, Outcome, StepResult
from harness.guide.state import load
from harness.targets import BundledServer, Profile


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BundledServer]:
    """A bundled server with the reference profile, for one test module."""
    with BundledServer(Profile.load("reference"), tmp_path_factory.mktemp("server")) as server:
        yield server


# `harness guide` run end to end, as CI runs it (test_guide_run.py, test_guide_destructive.py).

PNG = b"\x89PNG\r\n\x1a\n"
SCREENSHOT = re.compile(r"^- Screenshot: !\[[^\]]*\]\(([^)]+)\)$", re.MULTILINE)
TOTP_SEED = re.compile(r"\b[A-Z2-7]{32}\b")
"""A TOTP seed as the index shows it: 20 bytes in base32."""
RECOVERY_CODE = re.compile(r"(?<![\w.])[0-9a-f]{16}(?!\w)")
"""A recovery code of the reference server (and, by shape, the session's own id); not the
digits after a number's decimal point."""
STILL_THE_SAME = (
    "Apart from its recovery codes, your account is as it was before the guide started."
)
"""What the guide says at the end of a session whose undo removed all it could: the recovery
codes it made stay."""
GUIDE_TIMEOUT = 180
"""Seconds a whole scripted session may take, the destructive journeys' uploads included."""


def guide_answers(journeys: Sequence[Journey], *, stop_at: str | None = None) -> str:
    """A scripted answers file for ``journeys``: every person's step done, distinct answers
    per journey (see :func:`answers_of`), and yes to the undo."""
    lines = [
        "[environment]",
        'browser = "Chromium (CI)"',
        'os = "Debian (CI)"',
        'key = "virtual key (CI)"',
        'app = "TotpApp (CI)"',
        "[guide]",
        "undo = true",
    ]
    if stop_at:
        lines.append(f'stop_at = "{stop_at}"')
    for number, item in enumerate(journeys, 1):
        steps = ", ".join(f'{step.id} = "done"' for step in item.steps if step.action)
        lines += [
            f"[journeys.{item.id}]",
            f"steps = {{ {steps} }}",
            "worked = true",
            f"rating = {number % 5 + 1}",
            f'confusing = "confusing in {item.id}"',
            f'accessibility = "screen reader note on {item.id}"',
            f'comment = "comment on {item.id}"',
        ]
    return "\n".join(lines) + "\n"


def answers_of(journey_id: str) -> list[str]:
    """The text answers :func:`guide_answers` gives about ``journey_id``."""
    return [
        f"confusing in {journey_id}",
        f"screen reader note on {journey_id}",
        f"comment on {journey_id}",
    ]


def run_guide(
    *args: str | Path, vault: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``harness guide --headless *args`` in a subprocess, with ``vault`` as its vault and
    none of the caller's ``HARNESS_*`` variables but ``env``'s."""
    environ = {key: value for key, value in os.environ.items() if not key.startswith("HARNESS_")}
    environ.update({"HARNESS_GUIDE_VAULT": str(vault), **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", "guide", "--headless", *map(str, args)],
        capture_output=True,
        text=True,
        env=environ,
        timeout=GUIDE_TIMEOUT,
    )


def assert_every_step_worked(
    folder: Path, journeys: Sequence[Journey]
) -> dict[tuple[str, str], StepResult]:
    """Every step of ``journeys`` in the session of the report ``folder`` worked, with a
    screenshot there; every step's result of the session, by journey and step id."""
    results = {
        (record.journey_id, step.step_id): step.result
        for record in load(folder).done
        for step in record.steps
    }
    for item in journeys:
        for step in item.steps:
            result = results[item.id, step.id]
            assert result.outcome is Outcome.WORKED, (item.id, step.id, result.actual)
            assert result.screenshot is not None
            assert (folder / result.screenshot).read_bytes().startswith(PNG)
    return results


def assert_no_secret(folder: Path, known: list[str]) -> None:
    """No file of the report ``folder`` holds a value of ``known``, a TOTP seed or URI, or a
    recovery code."""
    session = load(folder).session
    for path in (path for path in folder.rglob("*") if path.is_file()):
        content = path.read_bytes()
        for secret in known:
            assert secret.encode() not in content, f"a secret is in {path}"
        if content.startswith(PNG):
            continue
        text = content.decode("utf-8")
        assert "otpauth://" not in text, path
        assert not TOTP_SEED.search(text), f"a TOTP seed is in {path}"
        assert set(RECOVERY_CODE.findall(text)) <= {session}, f"a recovery code is in {path}"
