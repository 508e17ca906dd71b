"""Uploads: build a tiny wheel and upload it with twine, as a maintainer would.

Scenarios upload to the target's legacy endpoint (``<base_url>/legacy/``, the API
``twine upload --repository-url`` speaks) by running twine itself in a subprocess, so what is
tested is what users run. The credentials reach twine through its environment, never its
command line, and its output comes back with the password masked.
"""

from __future__ import annotations

import base64
import contextlib
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus

from packaging.utils import canonicalize_name
from packaging.version import Version

# wheel's WheelFile (the class `wheel pack` writes with, and the module wheel exports) hashes
# each file as it is added and writes RECORD on close, so no hashes are made by hand here.
from wheel.wheelfile import WheelFile

from harness.errors import TargetError

MASK = "***"
WHEEL_TAG = "py3-none-any"
# twine writes through rich, which wraps lines at the console's width (80 columns when not on a
# terminal) and could split a password across two lines, out of reach of the masking; this many
# columns keeps any realistic password or token on one line.
TWINE_COLUMNS = 4096


@dataclass(frozen=True)
class UploadResult:
    """How a ``twine upload`` ended: its exit status and its output (stdout and stderr, as
    they came), in which the password is masked in every form twine or the server could print
    it."""

    returncode: int
    output: str

    @property
    def succeeded(self) -> bool:
        return self.returncode == 0


def build_wheel(folder: Path, name: str, version: str) -> Path:
    """Write a minimal pure-Python wheel of project ``name`` at ``version`` into ``folder``
    (created if missing): one module, ``METADATA`` (2.1, with a plain-text description so that
    ``twine check --strict`` passes), ``WHEEL`` and ``RECORD``.

    The file is named as the wheel spec says: ``{name}-{version}-py3-none-any.whl`` with the name
    normalised (lower case, runs of ``-_.`` as one ``_``) and the version in PEP 440 form.

    :return: the wheel's path; an existing file of that name is replaced.
    :raises ValueError: ``name`` is not a valid project name (``packaging.utils.InvalidName``)
        or ``version`` not a PEP 440 version (``packaging.version.InvalidVersion``).
    """
    stem = canonicalize_name(name, validate=True).replace("-", "_")
    normal_version = str(Version(version))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}-{normal_version}-{WHEEL_TAG}.whl"
    dist_info = f"{stem}-{normal_version}.dist-info"
    metadata = (
        "Metadata-Version: 2.1\n"
        f"Name: {name}\n"
        f"Version: {normal_version}\n"
        "Summary: A probe package uploaded by the conformance harness.\n"
        "Description-Content-Type: text/plain\n"
        "\n"
        "Uploaded by the login and 2FA conformance harness to test uploads; it does nothing.\n"
    )
    wheel_info = (
        "Wheel-Version: 1.0\n"
        "Generator: pypi-2fa-harness\n"
        "Root-Is-Purelib: true\n"
        f"Tag: {WHEEL_TAG}\n"
    )
    with WheelFile(path, "w") as wheel:
        wheel.writestr(f"{stem}.py", '"""A probe package: it does nothing."""\n')
        wheel.writestr(f"{dist_info}/METADATA", metadata)
        wheel.writestr(f"{dist_info}/WHEEL", wheel_info)
    return path


def twine_upload(
    repository_url: str,
    username: str,
    password: str,
    files: Sequence[Path],
    timeout: float = 120,
) -> UploadResult:
    """Upload ``files`` to ``repository_url`` (such as ``<base_url>/legacy/``) with
    ``python -m twine upload``, as ``username`` with ``password`` (a str or a
    :class:`~harness.redaction.Secret`). twine reads no ``~/.pypirc``, keyring or ``TWINE_*``
    variable of the user's, and never prompts.

    :return: twine's exit status and its output with the password masked; a refused upload is
        a result, not an error.
    :raises TargetError: twine did not finish within ``timeout`` seconds.
    """
    command, env = _twine_command(repository_url, username, password, files)
    try:
        run = subprocess.run(
            command,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise TargetError(
            f"twine upload to {repository_url} did not finish within {timeout:g} s"
        ) from None
    # rich pads each line to the console's width
    output = "\n".join(line.rstrip() for line in run.stdout.splitlines())
    return UploadResult(returncode=run.returncode, output=_masked(output, username, password))


def _twine_command(
    repository_url: str, username: str, password: str, files: Sequence[Path]
) -> tuple[list[str], dict[str, str]]:
    """The twine command line (no credentials in it) and its environment (the credentials,
    and nothing that would make twine read the user's configuration or ask anything)."""
    command = [
        sys.executable,
        "-m",
        "twine",
        "--no-color",
        "upload",
        "--repository-url",
        repository_url,
        "--config-file",
        os.devnull,
        "--non-interactive",
        "--disable-progress-bar",
        "--verbose",
        *(str(file) for file in files),
    ]
    env = {key: value for key, value in os.environ.items() if not key.startswith("TWINE_")}
    env |= {
        "TWINE_USERNAME": username,
        "TWINE_PASSWORD": str(password),
        "TWINE_NON_INTERACTIVE": "1",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        "COLUMNS": str(TWINE_COLUMNS),
    }
    return command, env


def _masked(text: str, username: str, password: str) -> str:
    """``text`` with ``password`` replaced by :data:`MASK`: as is, URL-encoded, in base64, and
    as the base64 ``username:password`` of a basic ``Authorization`` header (which requests
    encodes in Latin-1, so both that and UTF-8)."""
    if not password:
        return text
    forms = {password, quote(password, safe=""), quote_plus(password)}
    for encoding in ("utf-8", "latin-1"):
        with contextlib.suppress(UnicodeEncodeError):
            forms.add(base64.b64encode(password.encode(encoding)).decode())
            forms.add(base64.b64encode(f"{username}:{password}".encode(encoding)).decode())
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, MASK)
    return text
