"""Targets: the server under test, the profile describing it, and how to reach its mail.

A target is either the bundled reference server, started here as a subprocess on ``localhost``
with a fresh SQLite file (or a fresh database on a PostgreSQL server, and its rate limits in
Redis: :class:`ServerBackends`) and mailing to an in-process SMTP sink, or a
Warehouse-compatible server the tester names by URL. Whatever differs between servers of the
same contract lives in the target's :class:`Profile`, never in the scenarios.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import secrets
import subprocess
import sys
import threading
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from types import TracebackType

from harness.admin import AdminCommands
from harness.client import WEBAUTHN_ENCODINGS, IndexClient
from harness.errors import ProfileError, TargetError
from harness.imap import ImapMailbox
from harness.mail import Mailbox, SmtpSink
from harness.pacing import Pacer
from harness.services import DATABASE_VARIABLE, RATELIMIT_STORAGE_VARIABLE, temporary_database
from harness.test_hooks import TestHooks

PROFILE_NAMES = ("reference", "reference-2019", "warehouse", "warehouse-2019")
FEATURES = (
    "registration",
    "password_reset",
    "totp",
    "webauthn",
    "recovery_codes",
    "remember_device",
    "api_tokens",
    "projects",
    "uploads",
)
"""What a target may have or lack; scenarios name what they need with ``needs(...)``."""
SERVER_OPTIONAL_FEATURES = ("recovery_codes", "api_tokens", "remember_device")
"""The features the bundled server can leave out (``--without``), as the 2019 index lacked
them; it has the others whatever the profile says."""
READY_LINE = re.compile(r"reference-server listening on (http://\S+)")


@dataclass(frozen=True)
class RateLimits:
    """Rate limits of the target, in the `limits` library's notation ("5 per 5 minutes; …").

    :param known: the figures are the target's own; when not, no scenario sets out to reach a
        limit (it would lock the account out on a guess).
    """

    known: bool
    login_per_user: str
    login_per_ip: str
    login_global: str
    two_factor_per_user: str
    two_factor_per_ip: str
    password_reset_per_user: str

    @staticmethod
    def first_count(limit: str) -> int:
        """How many attempts the first (tightest) window of ``limit`` allows."""
        return int(limit.split(";")[0].split()[0])

    def exhaustible(self, name: str, at_most: int = 30) -> int | None:
        """How many attempts the tightest window of the limit ``name`` (a field, such as
        ``"login_per_user"``) allows; None when that is more than ``at_most``, too many for a
        scenario to use up (the scenario skips, saying so).

        :raises AttributeError: there is no limit ``name``.
        """
        allowed = self.first_count(getattr(self, name))
        return allowed if allowed <= at_most else None

    def for_one_client(self) -> RateLimits:
        """These limits with the per-address and global ones lifted: on a server whose only
        client is one harness run, they would count every scenario as one person."""
        lifted = "100000 per 5 minutes"
        return replace(self, login_per_ip=lifted, login_global=lifted, two_factor_per_ip=lifted)


@dataclass(frozen=True)
class Ages:
    """Age limits of the target, in seconds."""

    reauthenticate: int
    reauthenticate_recovery_codes: int
    two_factor_login: int
    password_reset: int
    email_verification: int
    remember_device: int


@dataclass(frozen=True)
class Profile:
    """What scenarios may assume about a target.

    :param policy: ``current`` or ``2019-beta``, the index's 2FA policy of that era.
    :param recovery_codes_before_first_method: TOTP/WebAuthn set-up needs recovery codes
        generated and one burned first.
    :param last_method_removable: the last 2FA method can be removed.
    :param webauthn_encoding: how the target's pages read the WebAuthn options' challenge and
        user id: ``base64url`` or Warehouse's ``char-codes`` (see
        :data:`harness.client.WEBAUTHN_ENCODINGS`).
    :param features: what the target has, of :data:`FEATURES`.
    """

    name: str
    description: str
    policy: str
    recovery_codes_before_first_method: bool
    last_method_removable: bool
    webauthn_encoding: str
    features: frozenset[str]
    ages: Ages
    rate_limits: RateLimits

    def lacks(self, feature: str) -> bool:
        """Whether the target lacks ``feature`` (one of :data:`FEATURES`).

        :raises ValueError: ``feature`` is not one of them.
        """
        if feature not in FEATURES:
            raise ValueError(f"unknown feature {feature!r}: one of {', '.join(FEATURES)}")
        return feature not in self.features

    def lacking(self, feature: str) -> str | None:
        """Why a scenario needing ``feature`` skips on this target (one line), or None when
        the target has it.

        :raises ValueError: ``feature`` is not one of :data:`FEATURES`.
        """
        if not self.lacks(feature):
            return None
        return f"the target profile {self.name} says the target has no {feature.replace('_', ' ')}"

    @classmethod
    def load(cls, name_or_path: str) -> Profile:
        """Load a bundled profile by name, or a profile file by path.

        :raises ProfileError: the profile does not exist or lacks a setting.
        """
        path = Path(name_or_path)
        if path.suffix == ".toml" or path.exists():
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as error:
                raise ProfileError(f"cannot read target profile {path}: {error.strerror}") from None
        elif name_or_path in PROFILE_NAMES:
            text = resources.files("harness").joinpath(f"profiles/{name_or_path}.toml").read_text()
        else:
            raise ProfileError(
                f"unknown target profile {name_or_path!r}: use one of {', '.join(PROFILE_NAMES)}"
                " or the path of a .toml file"
            )
        return cls.from_toml(text, source=name_or_path)

    @classmethod
    def from_toml(cls, text: str, source: str) -> Profile:
        """Build a profile from TOML text; ``source`` names it in error messages."""
        try:
            data = tomllib.loads(text)
            two_factor = data["two_factor"]
            profile = cls(
                name=data["name"],
                description=data.get("description", ""),
                policy=data["policy"],
                recovery_codes_before_first_method=two_factor["recovery_codes_before_first_method"],
                last_method_removable=two_factor["last_method_removable"],
                webauthn_encoding=data["webauthn"]["encoding"],
                features=_features(data.get("features", {}), source),
                ages=Ages(**data["ages"]),
                rate_limits=RateLimits(**data["rate_limits"]),
            )
        except tomllib.TOMLDecodeError as error:
            raise ProfileError(f"target profile {source} is not valid TOML: {error}") from None
        except KeyError as error:
            raise ProfileError(f"target profile {source} lacks the setting {error}") from None
        except TypeError as error:
            raise ProfileError(f"target profile {source} has a wrong setting: {error}") from None
        if profile.policy not in ("current", "2019-beta"):
            raise ProfileError(
                f"target profile {source}: policy must be 'current' or '2019-beta',"
                f" not {profile.policy!r}"
            )
        if profile.webauthn_encoding not in WEBAUTHN_ENCODINGS:
            raise ProfileError(
                f"target profile {source}: webauthn.encoding must be one of"
                f" {', '.join(WEBAUTHN_ENCODINGS)}, not {profile.webauthn_encoding!r}"
            )
        return profile

    def for_bundled_server(self) -> Profile:
        """This profile as the session's bundled server is started with it: every scenario
        reaches that server from one address, so its per-address and global limits are lifted
        (scenarios that check those start a server of their own)."""
        return replace(self, rate_limits=self.rate_limits.for_one_client())

    def pacer(self) -> Pacer:
        """A pacer keeping a run under this target's per-address limits."""
        limits = self.rate_limits
        return Pacer({"login": limits.login_per_ip, "two_factor": limits.two_factor_per_ip})

    def reference_server_args(self) -> list[str]:
        """Command-line options that make the bundled server behave as this profile says."""
        limits, ages = self.rate_limits, self.ages
        return [
            f"--profile={self.policy}",
            f"--webauthn-encoding={self.webauthn_encoding}",
            *(
                f"--without={feature.replace('_', '-')}"
                for feature in SERVER_OPTIONAL_FEATURES
                if self.lacks(feature)
            ),
            f"--login-user-limit={limits.login_per_user}",
            f"--login-ip-limit={limits.login_per_ip}",
            f"--login-global-limit={limits.login_global}",
            f"--two-factor-user-limit={limits.two_factor_per_user}",
            f"--two-factor-ip-limit={limits.two_factor_per_ip}",
            f"--password-reset-limit={limits.password_reset_per_user}",
            f"--reauth-max-age={ages.reauthenticate}",
            f"--reauth-recovery-codes-max-age={ages.reauthenticate_recovery_codes}",
            f"--two-factor-max-age={ages.two_factor_login}",
            f"--password-reset-max-age={ages.password_reset}",
            f"--email-verify-max-age={ages.email_verification}",
            f"--remember-device-max-age={ages.remember_device}",
        ]


def _features(table: object, source: str) -> frozenset[str]:
    """The features a profile's ``[features]`` table leaves on: each of :data:`FEATURES` is
    there unless set to false, so that a profile written before a feature was named still
    describes its target.

    :raises ProfileError: an unknown name, or a value that is not true or false.
    """
    if not isinstance(table, dict):
        raise ProfileError(f"target profile {source}: [features] must be a table")
    unknown = sorted(set(table) - set(FEATURES))
    if unknown:
        raise ProfileError(
            f"target profile {source}: unknown feature {unknown[0]!r}; features are"
            f" {', '.join(FEATURES)}"
        )
    for name, value in table.items():
        if not isinstance(value, bool):
            raise ProfileError(f"target profile {source}: features.{name} must be true or false")
    return frozenset(name for name in FEATURES if table.get(name, True))


@dataclass(frozen=True)
class Target:
    """A server under test.

    :param base_url: the server's root URL, without a trailing slash.
    :param mailbox: where the server's mail can be read, or None when the harness cannot.
    :param test_hooks: the server's test hooks (the bundled server in test mode), or None
        for a remote target.
    :param admin: the server's administrators' commands (the bundled server), or None.
    :param pacer: keeps the run's logins under a staging server's per-address limits; None
        for the bundled server, whose only client is the run.
    """

    base_url: str
    profile: Profile
    mailbox: Mailbox | ImapMailbox | None
    bundled: bool
    test_hooks: TestHooks | None = None
    admin: AdminCommands | None = None
    pacer: Pacer | None = None

    def client(self) -> IndexClient:
        """A fresh HTTP session with the target, reading its WebAuthn options as its pages do
        and paced by the target's pacer."""
        return IndexClient(
            self.base_url, webauthn_encoding=self.profile.webauthn_encoding, pacer=self.pacer
        )


@dataclass(frozen=True)
class ServerBackends:
    """Where bundled servers keep their data and their rate-limit counters.

    :param database: the SQLAlchemy URL of a PostgreSQL server
        (``postgresql+psycopg://USER@HOST:PORT/DB``); each bundled server makes a database of
        its own on it and drops it when it stops. None: a fresh SQLite file per server.
    :param ratelimit_storage: a ``redis://`` URL; each bundled server keeps its counters there
        under a key prefix of its own. None: in the server's memory.
    """

    database: str | None = None
    ratelimit_storage: str | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> ServerBackends:
        """The back-ends named by :data:`~harness.services.DATABASE_VARIABLE` and
        :data:`~harness.services.RATELIMIT_STORAGE_VARIABLE` (unset or empty: the defaults)."""
        environ = os.environ if environ is None else environ
        return cls(
            database=environ.get(DATABASE_VARIABLE) or None,
            ratelimit_storage=environ.get(RATELIMIT_STORAGE_VARIABLE) or None,
        )


class BundledServer:
    """The reference server in a subprocess, mailing to an in-process SMTP sink.

    Use as a context manager; :attr:`target` is valid inside it. The server's output goes to
    ``workdir/server.log``. The server runs in test mode (``--test-mode``), since the harness
    is its only client, and its test hooks are the target's :attr:`Target.test_hooks`.

    :param disabled_checks: names of the server's security checks to turn off
        (``--disable-check``), to show that the scenarios catch each one missing.
    :param backends: where the server keeps its data and rate-limit counters; None reads them
        from the environment (:meth:`ServerBackends.from_environment`), so that every bundled
        server of a run, in every pytest-xdist worker, uses them.
    :param shared_database: the SQLAlchemy URL of another bundled server's database
        (:attr:`database_url`), to serve it as a second server behind one load balancer would;
        it is used as it is and left for its owner to drop. None: a database of its own.
    """

    def __init__(
        self,
        profile: Profile,
        workdir: Path,
        disabled_checks: Sequence[str] = (),
        start_timeout: float = 30.0,
        backends: ServerBackends | None = None,
        shared_database: str | None = None,
    ) -> None:
        self.profile = profile
        self.workdir = workdir
        self.disabled_checks = tuple(disabled_checks)
        self.start_timeout = start_timeout
        self.backends = ServerBackends.from_environment() if backends is None else backends
        self._sink = SmtpSink()
        self._process: subprocess.Popen[str] | None = None
        self._resources = contextlib.ExitStack()
        self._shared_database = shared_database
        self._database_url = (
            shared_database or f"sqlite:///{self.workdir / 'reference-server.sqlite3'}"
        )
        self._ratelimit_key_prefix = f"harness-{secrets.token_hex(6)}"
        self.target: Target | None = None

    def __enter__(self) -> BundledServer:
        try:
            self._sink.start()
            self._resources.callback(self._sink.stop)
            if self._shared_database is None and self.backends.database is not None:
                self._database_url = self._resources.enter_context(
                    temporary_database(self.backends.database, prefix="harness_server")
                )
            base_url = self._start_server()
        except BaseException:
            self._stop_server()
            self._resources.close()
            raise
        self.target = Target(
            base_url,
            self.profile,
            self._sink.mailbox,
            bundled=True,
            test_hooks=TestHooks(base_url),
            admin=AdminCommands(self._database_url, f"localhost:{self._sink.port}"),
        )
        return self

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL of the database the server serves."""
        return self._database_url

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # The server first, so that its database can then be dropped.
        self._stop_server()
        self._resources.close()

    def _stop_server(self) -> None:
        if self._process is not None:
            if self._process.poll() is None:
                self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def _backend_args(self) -> list[str]:
        """The server's options for :attr:`backends`' rate-limit storage."""
        storage = self.backends.ratelimit_storage
        if storage is None:
            return []
        if not storage.startswith("redis"):
            return [f"--ratelimit-storage={storage}"]
        return [
            f"--ratelimit-storage={storage}",
            f"--ratelimit-key-prefix={self._ratelimit_key_prefix}",
        ]

    def _start_server(self) -> str:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log_path = self.workdir / "server.log"
        command = [
            sys.executable,
            "-m",
            "reference_server",
            "--host=localhost",
            "--port=0",
            f"--database={self._database_url}",
            f"--smtp=localhost:{self._sink.port}",
            "--test-mode",
            *(f"--disable-check={name}" for name in self.disabled_checks),
            *self.profile.reference_server_args(),
            *self._backend_args(),
        ]
        # Unbuffered, so the ready line arrives as soon as it is printed.
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=self.workdir,
        )
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(
            target=_copy_output, args=(self._process, log_path, lines), daemon=True
        ).start()
        while True:
            try:
                line = lines.get(timeout=self.start_timeout)
            except queue.Empty:
                raise TargetError(
                    f"the bundled reference server did not start within {self.start_timeout:.0f} s;"
                    f" see {log_path}"
                ) from None
            if line is None:
                last = log_path.read_text().strip().splitlines()[-1:] or ["no output"]
                raise TargetError(f"the bundled reference server exited: {last[0]}")
            match = READY_LINE.search(line)
            if match:
                return match.group(1)


def _copy_output(process: subprocess.Popen[str], log_path: Path, lines: queue.Queue) -> None:
    """Copy the server's output to its log file, and hand each line to the starter."""
    assert process.stdout is not None
    with log_path.open("w", encoding="utf-8") as log:
        for line in process.stdout:
            log.write(line)
            log.flush()
            lines.put(line)
    lines.put(None)
