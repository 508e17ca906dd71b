"""The bundled reference server's test hooks (``--test-mode``), as the harness calls them.

Only the bundled server has them: a remote target's :attr:`Target.test_hooks` is None, and a
scenario that needs them skips there. Each call is one JSON POST under ``/_test/``; a
refusal or an unreachable server raises a :class:`HarnessError` with a one-line message.
Secrets sent to the server are never part of a message or a repr.
"""

from __future__ import annotations

from typing import Any

import requests

from harness.errors import HarnessError, TargetError


class HookRefused(HarnessError):
    """The server answered a test hook with an error (bad input, unknown user, no TOTP…).

    :param status: the HTTP status of the answer.
    """

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class TestHooks:
    """The test hooks of the server at ``base_url`` (no trailing slash)."""

    __test__ = False  # not a test class, whatever pytest thinks of its name

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"TestHooks({self.base_url!r})"

    def set_totp_clock(self, username: str, time: int | None) -> None:
        """Check ``username``'s TOTP codes at ``time`` (Unix seconds), or at real time (None).

        Only that user's clock moves: other users, and scenarios running alongside, keep
        theirs.

        :raises HookRefused: the server refused (unknown user, time out of range).
        :raises TargetError: the server could not be reached or gave no JSON answer.
        """
        self._post("/_test/totp-clock", {"username": username, "time": time})

    def set_clock_offset(self, seconds: int) -> None:
        """Run the server's clock ``seconds`` ahead of real time (0: real time again).

        Every age the server checks moves with it (pending-login links, re-authentication,
        emailed links, sessions), and so does the time TOTP codes are checked at.

        :raises HookRefused: the server refused (not whole seconds, negative, too far).
        :raises TargetError: the server could not be reached or gave no JSON answer.
        """
        self._post("/_test/clock", {"offset": seconds})

    def seed_totp_secret(self, username: str, secret: str) -> None:
        """Replace the TOTP secret of ``username``, who has TOTP enabled, with ``secret``.

        :param secret: base32, as a provisioning page shows it (20 bytes).
        :raises HookRefused: the server refused (unknown user, no TOTP, malformed secret).
        :raises TargetError: the server could not be reached or gave no JSON answer.
        """
        self._post("/_test/totp-secret", {"username": username, "secret": secret})

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        url = self.base_url + path
        try:
            response = requests.post(url, json=body, timeout=self.timeout)
        except requests.RequestException as error:
            raise TargetError(
                f"test hook {path} unreachable: {type(error).__name__}; is the server running?"
            ) from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise TargetError(
                f"test hook {path} answered {response.status_code} without a JSON object;"
                " is the server running with --test-mode?"
            )
        if not response.ok:
            reason = " ".join(str(answer.get("error", "no reason given")).split())
            raise HookRefused(
                f"test hook {path} refused with {response.status_code}: {reason}",
                response.status_code,
            )
        return answer
