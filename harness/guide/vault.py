"""Secrets a guided session needs across runs, kept out of its report folder.

A person's session needs none: the tester's phone holds the TOTP seed, their key its private
key, their notes the recovery codes, and the password is asked again on each run (it is never
stored). Only the software authenticators standing in for the person in CI hold secrets the
guide must carry over a stop and a resume (the stand-in app's TOTP seed, the stand-in key's
credential, the recovery codes it noted), since a resumed session logs in with what an earlier
run set up. Those go in a vault: one JSON file per session, readable by its owner alone (mode
0600, in a folder of mode 0700), outside the report folder and the repository, removed once
the session is over (:meth:`Vault.forget`).

The vault's folder is ``HARNESS_GUIDE_VAULT``, else ``$XDG_STATE_HOME/pypi-2fa-harness/guide``,
else ``~/.local/state/pypi-2fa-harness/guide``.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from harness.errors import HarnessError
from harness.redaction import Secret
from harness.staging import REPOSITORY_ROOT

VAULT_FOLDER = "HARNESS_GUIDE_VAULT"


class VaultError(HarnessError):
    """The vault is misplaced, unreadable or cannot be written; one line, never a secret."""


def default_folder(environ: Mapping[str, str]) -> Path:
    """The vault's folder, from ``environ`` (see the module's docstring)."""
    if environ.get(VAULT_FOLDER):
        return Path(environ[VAULT_FOLDER]).expanduser()
    state_home = environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state_home) / "pypi-2fa-harness" / "guide"


class Vault:
    """The secrets of one session (``session``, the state's id), in ``folder``.

    :raises VaultError: ``folder`` is inside the report folder or the repository, where the
        secrets could be shared or committed; or ``session`` is not a plain id.
    """

    def __init__(
        self,
        session: str,
        folder: Path,
        report_folder: Path,
        repository_root: Path = REPOSITORY_ROOT,
    ) -> None:
        if not (session.isascii() and session.isalnum()):
            raise VaultError(f"the session id {session!r} is not letters and digits")
        resolved = folder.expanduser().resolve()
        for place, what in ((report_folder, "the report folder"), (repository_root, "the repo")):
            if resolved.is_relative_to(place.resolve()):
                raise VaultError(
                    f"the guide's vault {folder} is inside {what} {place}: set {VAULT_FOLDER}"
                    " to a folder outside it"
                )
        self.folder = resolved
        self.path = resolved / f"{session}.json"

    def get(self, name: str) -> Secret | None:
        """The secret kept under ``name``, or None."""
        value = self._read().get(name)
        return None if value is None else Secret(value)

    def get_document(self, name: str) -> object:
        """The JSON document kept under ``name`` (by :meth:`put`), or None. Unlike :meth:`get`,
        the text is not recorded as a secret: a document is too long to mask as a whole, and
        the caller records the secrets in it itself."""
        value = self._read().get(name)
        return None if value is None else json.loads(value)

    def put(self, name: str, value: str) -> None:
        """Keep ``value`` under ``name`` (replacing what was there), atomically."""
        self._write({**self._read(), name: str.__str__(value)})

    def forget(self) -> None:
        """Remove the session's secrets: done once the session is over and undone."""
        self.path.unlink(missing_ok=True)

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except OSError as error:
            raise VaultError(
                f"the guide's vault {self.path} cannot be read: {error.strerror}"
            ) from None
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise VaultError(f"the guide's vault {self.path} is not JSON: remove it") from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise VaultError(f"the guide's vault {self.path} is not a table of text: remove it")
        return data

    def _write(self, data: dict[str, str]) -> None:
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            # mkstemp makes the file readable by its owner alone before anything is in it.
            descriptor, temporary = tempfile.mkstemp(prefix=".vault-", dir=self.folder)
        except OSError as error:
            raise VaultError(
                f"the guide's vault {self.folder} cannot be made: {error.strerror}"
            ) from None
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                json.dump(data, file)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except OSError as error:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise VaultError(
                f"the guide's vault {self.path} cannot be written: {error.strerror}"
            ) from None
