"""The bundled server's administrators' command line, as the harness runs it.

``reference-server admin`` acts on the server's database directly, as the index's admins act
on theirs: wipe a user's security keys, reset two-factor authentication for account
recovery. Only the bundled server has it: a remote target's :attr:`Target.admin` is None, and
a scenario that needs it skips there.
"""

from __future__ import annotations

import subprocess
import sys

from harness.errors import HarnessError


class AdminRefused(HarnessError):
    """The admin command failed; the message is its one-line error."""


class AdminCommands:
    """``reference-server admin`` against the database at ``database_url``, mailing through
    ``smtp`` (``host:port``)."""

    def __init__(self, database_url: str, smtp: str, timeout: float = 60.0) -> None:
        self.database_url = database_url
        self.smtp = smtp
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"AdminCommands({self.database_url!r})"

    def wipe_webauthn(self, username: str) -> None:
        """Remove every security key of ``username`` (the user is mailed)."""
        self._run("wipe-webauthn", username)

    def reset_two_factor(self, username: str) -> None:
        """Remove ``username``'s TOTP, security keys and recovery codes (the user is mailed)."""
        self._run("reset-2fa", username)

    def _run(self, *args: str) -> None:
        command = [
            sys.executable,
            "-m",
            "reference_server",
            "admin",
            f"--database={self.database_url}",
            f"--smtp={self.smtp}",
            *args,
        ]
        run = subprocess.run(command, capture_output=True, text=True, timeout=self.timeout)
        if run.returncode != 0:
            last = (run.stderr.strip().splitlines() or ["no output"])[-1]
            raise AdminRefused(f"`reference-server admin {args[0]}` failed: {last}")
