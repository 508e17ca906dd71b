"""Deliberately broken copies of the reference server, each breaking one security check.

A :class:`Mutant` is one textual change to one file of ``reference_server`` and the scenarios
that must fail against it. The honest twin of each is the unchanged server, against which the
same scenarios pass in the main suite.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import reference_server

SERVER_SOURCE = Path(reference_server.__file__).resolve().parent


@dataclass(frozen=True)
class Mutant:
    """One security check removed from the reference server.

    :param name: what is broken, as a test id.
    :param file: the file to change, relative to the ``reference_server`` package.
    :param original: text that occurs exactly once in that file.
    :param broken: what replaces it.
    :param catches: scenario node ids (relative to the project) that must fail.
    """

    name: str
    file: str
    original: str
    broken: str
    catches: tuple[str, ...]

    def build(self, folder: Path) -> Path:
        """Copy the server into ``folder/reference_server`` with the change made; ``folder``.

        :raises ValueError: the original text is not in the file exactly once (the server
            changed; update the mutant).
        """
        copy = folder / "reference_server"
        shutil.copytree(SERVER_SOURCE, copy, ignore=shutil.ignore_patterns("__pycache__"))
        path = copy / self.file
        text = path.read_text(encoding="utf-8")
        if text.count(self.original) != 1:
            raise ValueError(
                f"mutant {self.name}: the text to break occurs {text.count(self.original)}"
                f" times in {self.file}, not once"
            )
        path.write_text(text.replace(self.original, self.broken), encoding="utf-8")
        return folder


TOTP_LOGIN = "scenarios/totp/test_totp_login.py"
SESSIONS = "scenarios/accounts/test_login_and_sessions.py"

MUTANTS = (
    Mutant(
        name="totp-replay-accepted",
        file="views/two_factor.py",
        original=".where(or_(User.last_totp_step.is_(None), User.last_totp_step < step))",
        broken="",
        catches=(
            f"{TOTP_LOGIN}::TestTotpReplay::test_accepted_code_is_refused_at_the_next_login",
            f"{TOTP_LOGIN}::TestTotpReplay::test_older_step_is_refused_once_a_newer_one_was_accepted",
            f"{TOTP_LOGIN}::TestTotpReplay::test_spaced_variant_of_an_accepted_code_is_refused",
        ),
    ),
    Mutant(
        name="csrf-not-checked",
        file="csrf.py",
        original='    if request.method != "POST":\n        return\n',
        broken="    return\n",
        catches=(
            f"{SESSIONS}::TestCsrf::test_login_without_csrf_token_is_refused",
            f"{SESSIONS}::TestCsrf::test_csrf_token_of_another_session_is_refused",
            f"{SESSIONS}::TestCsrf::test_logout_without_csrf_token_keeps_the_session",
        ),
    ),
    Mutant(
        name="session-not-rotated-at-login",
        file="auth.py",
        original="    session.rotate()\n",
        broken="",
        catches=(
            f"{SESSIONS}::TestSession::test_session_id_changes_at_login",
            f"{SESSIONS}::TestSession::test_session_id_from_before_login_grants_nothing_after_it",
        ),
    ),
)
