"""``reference-server admin …``: what the index's administrators do by hand, for tests.

- ``create-user USERNAME EMAIL``: an account with a verified address; the password is read
  from standard input (one line), never from the command line.
- ``create-project NAME OWNER``: an empty project owned by ``OWNER``.
- ``wipe-webauthn USERNAME``: remove every security key of the user, as PyPI warned its 2019
  beta testers it might; the user keeps any other second factor and recovery codes.
- ``reset-2fa USERNAME``: account recovery: remove TOTP, the keys and the recovery codes.

Each change is recorded as an event of the account (``"by": "admin"``) and the user is
mailed. Problems are one line ``reference-server admin: error: …`` with exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from flask import Flask
from sqlalchemy import delete

from reference_server import projects
from reference_server.auth import email_user, find_user, now, passwords, record_event
from reference_server.config import ServerConfig
from reference_server.db import DatabaseError, db, make_engine
from reference_server.models import Email, Project, RecoveryCode, Role, User, WebAuthn
from reference_server.validation import valid_email, valid_username

PROG = "reference-server admin"


class AdminError(Exception):
    """A problem to report in one line before exiting with status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, metavar="URL", help="the server's database")
    parser.add_argument(
        "--smtp", metavar="HOST:PORT", help="where to send the users' mail (default: none sent)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    user = commands.add_parser("create-user", help="an account with a verified address")
    user.add_argument("username")
    user.add_argument("email")
    project = commands.add_parser("create-project", help="an empty project with one owner")
    project.add_argument("name")
    project.add_argument("owner")
    for name, what in (
        ("wipe-webauthn", "remove the user's security keys"),
        ("reset-2fa", "remove the user's TOTP, security keys and recovery codes"),
    ):
        commands.add_parser(name, help=what).add_argument("username")
    return parser


def user_named(username: str) -> User:
    found = find_user(username)
    if found is None:
        raise AdminError(f"no user named {username!r}")
    return found


def create_user(args: argparse.Namespace) -> str:
    password = sys.stdin.readline().rstrip("\n")
    if not valid_username(args.username) or not valid_email(args.email):
        raise AdminError("give a valid username and email address")
    if find_user(args.username) is not None:
        raise AdminError(f"user {args.username!r} already exists")
    if not password:
        raise AdminError("give the password on standard input")
    moment = now()
    user = User(
        username=args.username,
        name=args.username,
        password=passwords().hash(password),
        password_date=moment,
        date_joined=moment,
    )
    user.emails.append(Email(email=args.email, primary=True, verified=True))
    db().add(user)
    db().flush()
    record_event(user, "account:create", {"by": "admin"})
    return f"created user {args.username}"


def create_project(args: argparse.Namespace) -> str:
    owner = user_named(args.owner)
    if not projects.valid_name(args.name):
        raise AdminError(f"{args.name!r} is not a valid project name")
    if projects.find_project(args.name) is not None:
        raise AdminError(f"project {args.name!r} already exists")
    project = Project(name=args.name, normalized_name=projects.normalized(args.name), created=now())
    db().add(project)
    db().flush()
    db().add(Role(user_id=owner.id, project_id=project.id, role_name=projects.OWNER))
    record_event(owner, "project:create", {"project": args.name, "by": "admin"})
    return f"created project {args.name} owned by {owner.username}"


def wipe_webauthn(args: argparse.Namespace) -> str:
    user = user_named(args.username)
    count = len(user.webauthn)
    db().execute(delete(WebAuthn).where(WebAuthn.user_id == user.id))
    record_event(user, "account:webauthn:wiped", {"by": "admin", "keys": count})
    email_user(user, "Your security devices were removed", "webauthn_wiped.txt")
    return f"removed {count} security key(s) of {user.username}"


def reset_two_factor(args: argparse.Namespace) -> str:
    user = user_named(args.username)
    user.totp_secret = None
    user.last_totp_step = None
    db().execute(delete(WebAuthn).where(WebAuthn.user_id == user.id))
    db().execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    record_event(user, "account:two_factor:reset", {"by": "admin"})
    email_user(user, "Two-factor authentication was reset", "two_factor_reset.txt")
    return f"reset two-factor authentication of {user.username}"


COMMANDS: dict[str, Callable[[argparse.Namespace], str]] = {
    "create-user": create_user,
    "create-project": create_project,
    "wipe-webauthn": wipe_webauthn,
    "reset-2fa": reset_two_factor,
}


def run(app: Flask, args: argparse.Namespace) -> str:
    """Carry out ``args.command`` in one transaction; its one-line report."""
    # The server's own helpers (events, mail templates) work inside a request context.
    with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        report = COMMANDS[args.command](args)
        db().commit()
        return report


def main(argv: Sequence[str]) -> int:
    """Run an admin command; the exit status."""
    from reference_server.app import create_app
    from reference_server.cli import CliError, parse_smtp

    args = build_parser().parse_args(argv)
    try:
        settings = ServerConfig(database_url=args.database, smtp=parse_smtp(args.smtp))
        app = create_app(settings, engine=make_engine(args.database))
        print(run(app, args))
    except (AdminError, CliError, DatabaseError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    return 0
