"""The command line: ``reference-server`` / ``python -m reference_server``.

Parses the options into a :class:`ServerConfig`, checks everything that can be wrong
(database, port, SMTP address, rate limits, storage) before serving, and reports each
problem as one line ``reference-server: error: …`` with exit status 2, never a traceback.
Once listening it prints exactly one line, ``reference-server listening on http://HOST:PORT``,
preceded in test mode by one warning line on stderr.
"""

from __future__ import annotations

import argparse
import errno
import logging
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

from reference_server.checks import CHECKS, UnknownCheck, validate
from reference_server.config import PROFILES, WEBAUTHN_ENCODINGS, ServerConfig
from reference_server.db import DatabaseError, make_engine
from reference_server.features import OPTIONAL_FEATURES
from reference_server.ratelimits import RateLimitConfigError, make_storage, parse_limits

PROG = "reference-server"
DEFAULTS = ServerConfig(secret_key="unused")
TEST_MODE_WARNING = (
    f"{PROG}: TEST MODE: test hooks are enabled; never expose this server to real users"
)


def disabled_check_warning(name: str) -> str:
    """The line printed at start-up for each check turned off."""
    return f"{PROG}: TEST MODE: security check {name!r} is DISABLED; this server is insecure"


def list_checks() -> str:
    """One line per check: name, the requirement ids it implements, its summary."""
    return "\n".join(
        f"{check.name}\t{','.join(check.requirements)}\t{check.profile}\t{check.summary}"
        for check in CHECKS
    )


class CliError(Exception):
    """A problem to report in one line before exiting with status 2."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; ``--help`` explains every option."""
    d = DEFAULTS
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="A Warehouse-compatible package index that serves the login and two-factor "
        "contract the harness tests (register, email verification, login, TOTP, WebAuthn "
        "security keys, recovery codes, re-authentication, password reset, projects, API "
        "tokens, uploads). `reference-server admin --help`: the administrators' commands.",
    )
    serve = parser.add_argument_group("serving")
    serve.add_argument(
        "--host",
        default=d.host,
        help="host name or IPv4 address to listen on (default: %(default)s; "
        "'localhost' listens on 127.0.0.1)",
    )
    serve.add_argument(
        "--port",
        type=int,
        default=d.port,
        help="TCP port to listen on; 0 picks a free one, printed in the "
        "'listening on' line (default: %(default)s)",
    )
    serve.add_argument(
        "--database",
        default=d.database_url,
        metavar="URL",
        help="SQLAlchemy database URL; the schema is created on start-up (default: %(default)s)",
    )
    serve.add_argument(
        "--init-db", action="store_true", help="create the database schema and exit without serving"
    )
    serve.add_argument(
        "--smtp",
        metavar="HOST:PORT",
        help="SMTP server to send mail to; without it no mail is sent and one "
        "line per message is logged (without links or tokens)",
    )
    serve.add_argument(
        "--profile",
        choices=PROFILES,
        default=d.profile,
        help="policy: 'current' (recovery codes generated and one used before "
        "the first 2FA method; the last 2FA method cannot be removed) or "
        "'2019-beta' (neither rule) (default: %(default)s)",
    )
    serve.add_argument(
        "--secret-key-file",
        metavar="PATH",
        type=Path,
        help="file whose content is the key that signs tokens and cookies "
        "(default: a random key per start, so links die with the process)",
    )
    serve.add_argument(
        "--rp-id",
        metavar="DOMAIN",
        help="WebAuthn relying party ID that security keys are bound to: a domain name, "
        "e.g. 'localhost' or 'pypi.example.org' (default: the host name of each request, "
        "without port; browsers refuse IP addresses such as 127.0.0.1)",
    )
    serve.add_argument(
        "--origin",
        metavar="URL",
        help="the exact origin (scheme://host[:port], no path) that WebAuthn responses must "
        "come from, e.g. 'https://pypi.example.org' (default: the scheme and host of each "
        "request)",
    )
    serve.add_argument(
        "--webauthn-encoding",
        choices=WEBAUTHN_ENCODINGS,
        default=d.webauthn_encoding,
        help="how the pages read the WebAuthn options' challenge and user id strings: "
        "'base64url' (decoded, as WebAuthn's JSON forms are) or 'char-codes' (each "
        "character's code, as Warehouse's JavaScript does) (default: %(default)s)",
    )
    serve.add_argument(
        "--without",
        action="append",
        default=[],
        choices=tuple(OPTIONAL_FEATURES),
        metavar="FEATURE",
        help="leave this feature out (repeatable), as the 2019 index had none of them: "
        f"{', '.join(OPTIONAL_FEATURES)}; its pages answer 404 and its controls are not shown",
    )
    serve.add_argument(
        "--test-mode",
        action="store_true",
        help="for the test harness only, never for a server real users can reach: serve "
        "the test hooks under /_test/ (a per-user TOTP clock, seeding a TOTP secret; loopback "
        "clients only) and show a test-mode banner on every page",
    )
    serve.add_argument(
        "--disable-check",
        action="append",
        default=[],
        metavar="NAME",
        help="with --test-mode only: turn off this security check (repeatable), making the "
        "server deliberately insecure so that a test suite can show it notices; "
        "--list-checks names them",
    )
    serve.add_argument(
        "--list-checks",
        action="store_true",
        help="print the security checks --disable-check can turn off, a line each "
        "(name, requirement ids, what it does), and exit",
    )

    limits = parser.add_argument_group(
        "rate limits",
        "limits on failures, in the 'limits' library's notation, several "
        "separated by ';' (e.g. '5 per 5 minutes; 20 per hour')",
    )
    limits.add_argument(
        "--ratelimit-storage",
        default=d.ratelimit_storage,
        metavar="URL",
        help="where counters live: 'memory://' or a 'redis://HOST:PORT' URL (default: %(default)s)",
    )
    limits.add_argument(
        "--ratelimit-key-prefix",
        metavar="PREFIX",
        help="with a redis:// storage: prefix of this server's keys in it, so that servers "
        "sharing one Redis keep their own counts (default: the limits library's, LIMITS)",
    )
    for option, field, what in (
        ("--login-user-limit", "login_user_limit", "failed logins per username"),
        ("--login-ip-limit", "login_ip_limit", "failed logins per client IP address"),
        ("--login-global-limit", "login_global_limit", "failed logins in total"),
        (
            "--two-factor-user-limit",
            "two_factor_user_limit",
            "failed second factors (TOTP, security keys and recovery codes together) per user",
        ),
        (
            "--two-factor-ip-limit",
            "two_factor_ip_limit",
            "failed second factors per client IP address",
        ),
        ("--password-reset-limit", "password_reset_limit", "password reset emails per account"),
    ):
        limits.add_argument(
            option,
            default=getattr(d, field),
            metavar="LIMITS",
            help=f"{what} (default: %(default)s)",
        )

    ages = parser.add_argument_group("ages", "maximum ages, in seconds")
    for option, field, what in (
        (
            "--reauth-max-age",
            "reauth_max_age",
            "how long a login or password re-check allows managing two-factor settings",
        ),
        (
            "--reauth-recovery-codes-max-age",
            "reauth_recovery_codes_max_age",
            "how long a login or password re-check allows generating recovery codes",
        ),
        (
            "--two-factor-max-age",
            "two_factor_max_age",
            "how long the second login step stays open after the password step",
        ),
        (
            "--password-reset-max-age",
            "password_reset_max_age",
            "how long a password reset link works",
        ),
        (
            "--email-verify-max-age",
            "email_verify_max_age",
            "how long an email verification link works",
        ),
        (
            "--remember-device-max-age",
            "remember_device_max_age",
            "how long a remember-device cookie lets a login skip the second factor",
        ),
    ):
        ages.add_argument(
            option,
            type=int,
            default=getattr(d, field),
            metavar="SECONDS",
            help=f"{what} (default: %(default)s)",
        )
    return parser


def parse_smtp(value: str | None) -> tuple[str, int] | None:
    """``HOST:PORT`` as a pair; CliError when it is not."""
    if value is None:
        return None
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise CliError(f"--smtp must be HOST:PORT (e.g. localhost:1025), not {value!r}")
    return host, int(port)


def parse_rp_id(value: str | None) -> str | None:
    """A WebAuthn RP ID: a bare host name, lower case; CliError for a URL or host:port."""
    if value is None:
        return None
    if not value or any(c in value for c in "/:@ ") or value.startswith("."):
        raise CliError(f"--rp-id must be a domain name such as localhost, not {value!r}")
    return value.lower()


def parse_origin(value: str | None) -> str | None:
    """A WebAuthn origin ``scheme://host[:port]``; CliError for anything else (paths too)."""
    if value is None:
        return None
    parts = urlsplit(value)
    try:
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        port_ok = False
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username
        or not port_ok
    ):
        raise CliError(
            f"--origin must be scheme://host[:port], e.g. http://localhost:8000, not {value!r}"
        )
    return f"{parts.scheme}://{parts.netloc.lower()}"


def read_secret(path: Path | None) -> str | None:
    """The key in ``path`` (stripped), None without a path; CliError when unreadable/empty."""
    if path is None:
        return None
    try:
        key = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read --secret-key-file {str(path)!r}: {exc}") from exc
    if len(key) < 16:
        raise CliError(f"--secret-key-file {str(path)!r} must hold a key of 16 characters or more")
    return key


def config_from_args(args: argparse.Namespace) -> ServerConfig:
    """The ServerConfig of parsed arguments; CliError for values that cannot work."""
    if not 0 <= args.port < 65536:
        raise CliError(f"--port must be between 0 and 65535, not {args.port}")
    limit_fields = (
        "login_user_limit",
        "login_ip_limit",
        "login_global_limit",
        "two_factor_user_limit",
        "two_factor_ip_limit",
        "password_reset_limit",
    )
    age_fields = (
        "reauth_max_age",
        "reauth_recovery_codes_max_age",
        "two_factor_max_age",
        "password_reset_max_age",
        "email_verify_max_age",
        "remember_device_max_age",
    )
    try:
        for field in limit_fields:
            parse_limits(getattr(args, field))
        make_storage(args.ratelimit_storage, args.ratelimit_key_prefix)
    except RateLimitConfigError as exc:
        raise CliError(f"{exc}; see --help for the notation") from exc
    for field in age_fields:
        if getattr(args, field) <= 0:
            option = "--" + field.replace("_", "-")
            raise CliError(f"{option} must be a positive number of seconds")
    if "recovery-codes" in args.without and args.profile == "current":
        raise CliError(
            "--without recovery-codes needs --profile 2019-beta: the current policy asks for"
            " recovery codes before the first 2FA method"
        )
    if args.disable_check and not args.test_mode:
        raise CliError("--disable-check makes the server insecure: it needs --test-mode too")
    try:
        disabled_checks = validate(args.disable_check)
    except UnknownCheck as exc:
        raise CliError(f"--disable-check: {exc}") from exc
    extra: dict = {"rp_id": parse_rp_id(args.rp_id), "origin": parse_origin(args.origin)}
    secret = read_secret(args.secret_key_file)
    if secret is not None:
        extra["secret_key"] = secret
    return ServerConfig(
        host=args.host,
        port=args.port,
        database_url=args.database,
        smtp=parse_smtp(args.smtp),
        profile=args.profile,
        webauthn_encoding=args.webauthn_encoding,
        without=frozenset(args.without),
        test_mode=args.test_mode,
        disabled_checks=disabled_checks,
        ratelimit_storage=args.ratelimit_storage,
        ratelimit_key_prefix=args.ratelimit_key_prefix,
        **{f: getattr(args, f) for f in limit_fields + age_fields},
        **extra,
    )


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host``'s IPv4 address and listening; CliError when impossible."""
    try:
        address = socket.gethostbyname(host)
    except OSError as exc:
        raise CliError(f"cannot resolve --host {host!r} to an IPv4 address") from exc
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((address, port))
        sock.listen(1024)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise CliError(
                f"port {port} on {host} is already in use; choose another "
                "--port or 0 for a free one"
            ) from exc
        raise CliError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return sock


def serve(config: ServerConfig) -> None:
    """Check the database, listen, print the one line, serve until SIGTERM or SIGINT."""
    import waitress

    from reference_server.app import create_app

    engine = make_engine(config.database_url)
    sock = listening_socket(config.host, config.port)
    app = create_app(config, engine=engine)
    server = waitress.create_server(app, sockets=[sock], threads=8, ident=PROG)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        server.close()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    port = sock.getsockname()[1]
    if config.test_mode:
        print(TEST_MODE_WARNING, file=sys.stderr, flush=True)
    for name in sorted(config.disabled_checks):
        print(disabled_check_warning(name), file=sys.stderr, flush=True)
    print(f"{PROG} listening on http://{config.host}:{port}", flush=True)
    try:
        server.run()
    finally:
        engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["admin"]:
        from reference_server import admin

        return admin.main(argv[1:])
    args = build_parser().parse_args(argv)
    if args.list_checks:
        print(list_checks())
        return 0
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        config = config_from_args(args)
        if args.init_db:
            make_engine(config.database_url).dispose()
            return 0
        serve(config)
    except (CliError, DatabaseError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr, flush=True)
        return 2
    return 0
