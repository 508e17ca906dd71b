"""The leanest password + TOTP login this design allows: figure 4's comparison.

The bundled server's throughput is set against a limit that counts the password hash alone.
This server shows how near to that limit any server built as DESIGN.md builds the bundled
one can come: a Flask app on waitress (8 threads), SQLite in write-ahead-log mode, Jinja
templates, run the same way and loaded by the same clients. It does what a login must and no
more:

- a server-side session in the database whose random id is the cookie, holding the CSRF
  token; a new id (the old row deleted) at the password step and at the two-factor step;
- the CSRF token checked on every form post;
- argon2 verification of the password at the bundled server's settings;
- the TOTP code checked in the window of the current step and the steps either side, and its
  step recorded by one conditional update, so that no code is accepted twice;
- the test hook ``POST /_test/totp-clock`` (``{"username", "time"}``), which the load uses.

Left out, each of which the bundled server pays for: rate limits, the security events log,
flashed messages, the ORM, the other second factors, re-authentication, remembered devices,
email verification, and the checks a faulty profile can turn off. Not a server to test
against: nothing but :mod:`benchmarks` uses it.

Run as ``python -m benchmarks.lean_login_server --database FILE --socket-fd N``: it serves on
the listening socket it inherits, from the database :func:`seed` made.
"""

from __future__ import annotations

import argparse
import contextlib
import hmac
import json
import logging
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from flask import Flask, Response, abort, redirect, render_template, request
from jinja2 import DictLoader
from sqlalchemy import (
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    delete,
    event,
    insert,
    or_,
    select,
    update,
)

from benchmarks.server import HashSettings, TotpAccount
from reference_server import otp
from reference_server.db import use_wal

PROJECT = Path(__file__).resolve().parent.parent
SESSION_SECONDS = 12 * 3600
TEMPLATES = {
    "base.html": """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{% block title %}{% endblock %}</title></head>
<body><header><a href="/">Package index</a></header>
<main>{% if error %}<p role="alert">{{ error }}</p>{% endif %}
{% block content %}{% endblock %}</main>
</body></html>""",
    "login.html": """{% extends "base.html" %}{% block title %}Log in{% endblock %}
{% block content %}<h1>Log in</h1><form method="post">
<input type="hidden" name="csrf_token" value="{{ csrf_token }}">
<label>Username <input name="username" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Log in</button></form>{% endblock %}""",
    "two_factor.html": """{% extends "base.html" %}{% block title %}Two-factor{% endblock %}
{% block content %}<h1>Two-factor authentication</h1><form method="post">
<input type="hidden" name="csrf_token" value="{{ csrf_token }}">
<input type="hidden" name="method" value="totp">
<label>Code <input name="totp_value" inputmode="numeric" autocomplete="one-time-code"></label>
<button type="submit">Verify</button></form>{% endblock %}""",
}

metadata = MetaData()
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String, unique=True, nullable=False),
    Column("password_hash", String, nullable=False),
    Column("totp_secret", String, nullable=False),
    Column("last_totp_step", Integer),
    Column("totp_clock", Integer),
    Column("last_login", Float),
)
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id", String, primary_key=True),
    Column("data", String, nullable=False),
    Column("expires", Float, nullable=False),
)
_READ_SESSION = select(web_sessions.c.data, web_sessions.c.expires).where(
    web_sessions.c.id == bindparam("sid")
)
_DELETE_SESSION = delete(web_sessions).where(web_sessions.c.id == bindparam("sid"))
_INSERT_SESSION = insert(web_sessions)
_USER_BY_NAME = select(users).where(users.c.username == bindparam("username"))
_USER_BY_ID = select(users).where(users.c.id == bindparam("user_id"))
_SET_CLOCK = (
    update(users).where(users.c.username == bindparam("name")).values(totp_clock=bindparam("at"))
)
_USE_STEP = (
    update(users)
    .where(users.c.id == bindparam("user_id"))
    .where(or_(users.c.last_totp_step.is_(None), users.c.last_totp_step < bindparam("step")))
    .values(last_totp_step=bindparam("step"), last_login=bindparam("now"))
)


def engine_for(database: Path) -> Engine:
    engine = create_engine(
        f"sqlite:///{database}", connect_args={"check_same_thread": False, "timeout": 30}
    )
    event.listen(engine, "connect", use_wal)
    return engine


def seed(database: Path, accounts: Sequence[TotpAccount], hasher: PasswordHasher) -> None:
    """Create the database at ``database`` with ``accounts``, their passwords hashed."""
    engine = engine_for(database)
    try:
        metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(
                insert(users),
                [
                    {
                        "username": account.username,
                        "password_hash": hasher.hash(account.password),
                        "totp_secret": account.secret,
                    }
                    for account in accounts
                ],
            )
    finally:
        engine.dispose()


def create_app(engine: Engine, hasher: PasswordHasher) -> Flask:
    """The login's four pages and the clock hook, on ``engine``'s database."""
    app = Flask(__name__)
    app.jinja_loader = DictLoader(TEMPLATES)

    def open_session() -> tuple[str | None, dict]:
        sid = request.cookies.get("session_id")
        if not sid:
            return None, {}
        with engine.connect() as connection:
            row = connection.execute(_READ_SESSION, {"sid": sid}).first()
        if row is None or row.expires < time.time():
            return None, {}
        return sid, json.loads(row.data)

    def save_session(response: Response, old_sid: str | None, data: dict) -> Response:
        """Store ``data`` under a new id, the old one deleted, and set the cookie."""
        sid = secrets.token_urlsafe(32)
        with engine.begin() as connection:
            if old_sid:
                connection.execute(_DELETE_SESSION, {"sid": old_sid})
            connection.execute(
                _INSERT_SESSION,
                {"id": sid, "data": json.dumps(data), "expires": time.time() + SESSION_SECONDS},
            )
        response.set_cookie("session_id", sid, httponly=True, samesite="Lax")
        return response

    def check_csrf(data: dict) -> None:
        posted = request.form.get("csrf_token", "")
        if not hmac.compare_digest(posted.encode(), data.get("csrf_token", "").encode()):
            abort(400)

    @app.post("/_test/totp-clock")
    def totp_clock() -> dict:
        body = request.get_json()
        with engine.begin() as connection:
            found = connection.execute(
                _SET_CLOCK, {"name": body["username"], "at": body["time"]}
            ).rowcount
        if found != 1:
            abort(404)
        return {"username": body["username"], "time": body["time"]}

    @app.route("/account/login/", methods=["GET", "POST"])
    def login() -> Response | str:
        sid, data = open_session()
        if request.method == "GET":
            if "csrf_token" in data:
                return render_template("login.html", csrf_token=data["csrf_token"])
            data["csrf_token"] = secrets.token_urlsafe(32)
            page = Response(render_template("login.html", csrf_token=data["csrf_token"]))
            return save_session(page, sid, data)
        check_csrf(data)
        with engine.connect() as connection:
            user = connection.execute(
                _USER_BY_NAME, {"username": request.form.get("username", "")}
            ).first()
        try:
            if user is None:
                raise VerificationError
            hasher.verify(user.password_hash, request.form.get("password", ""))
        except VerificationError:
            error = "The username or password is not right."
            return render_template("login.html", csrf_token=data["csrf_token"], error=error)
        pending = secrets.token_urlsafe(16)
        data = {"csrf_token": secrets.token_urlsafe(32), "pending": user.id, "token": pending}
        return save_session(redirect(f"/account/two-factor/?{pending}", 303), sid, data)

    @app.route("/account/two-factor/", methods=["GET", "POST"])
    def two_factor() -> Response | str:
        sid, data = open_session()
        if "pending" not in data or not hmac.compare_digest(
            request.query_string, data["token"].encode()
        ):
            return redirect("/account/login/", 303)
        if request.method == "GET":
            return render_template("two_factor.html", csrf_token=data["csrf_token"])
        check_csrf(data)
        with engine.connect() as connection:
            user = connection.execute(_USER_BY_ID, {"user_id": data["pending"]}).first()
        step = totp_step(user.totp_secret, request.form.get("totp_value", ""), user.totp_clock)
        if step is None or not use_step(user.id, step):
            error = "Invalid TOTP code."
            return render_template("two_factor.html", csrf_token=data["csrf_token"], error=error)
        logged_in = {"csrf_token": secrets.token_urlsafe(32), "user": user.id}
        return save_session(redirect("/", 303), sid, logged_in)

    def use_step(user_id: int, step: int) -> bool:
        """Record ``step`` as the user's last; False when it is not newer than the last."""
        with engine.begin() as connection:
            used = {"user_id": user_id, "step": step, "now": time.time()}
            return connection.execute(_USE_STEP, used).rowcount == 1

    return app


def totp_step(secret: str, value: str, clock: int | None) -> int | None:
    """The step whose code ``value`` is, by the bundled server's own check (its window around
    the clock, or the real time when the clock is None); None when it is no such code."""
    try:
        code = otp.canonical_code(value)
    except otp.TotpFormatError:
        return None
    return otp.matching_step(otp.b32decode(secret), code, time.time() if clock is None else clock)


def lean_accounts(count: int, password: str) -> list[TotpAccount]:
    """``count`` accounts for :func:`seed`, each with its own TOTP secret."""
    return [
        TotpAccount(f"lean-{index}", password, otp.secret_base32(otp.generate_secret()))
        for index in range(count)
    ]


@dataclass(frozen=True)
class LeanServer:
    base_url: str
    pid: int


@contextlib.contextmanager
def started(accounts: Sequence[TotpAccount]) -> Iterator[LeanServer]:
    """Seed a database with ``accounts`` (passwords hashed at the bundled server's settings),
    serve it from a subprocess; stop it at the end."""
    with tempfile.TemporaryDirectory(prefix="bench-lean-server-") as folder:
        database = Path(folder) / "lean.sqlite"
        seed(database, accounts, HashSettings.of_server().hasher())
        # Listening before the server starts: the first requests wait in the backlog.
        with socket.create_server(("127.0.0.1", 0), backlog=1024) as listening:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.lean_login_server",
                    "--database",
                    str(database),
                    "--socket-fd",
                    str(listening.fileno()),
                ],
                cwd=PROJECT,
                pass_fds=(listening.fileno(),),
            )
            port = listening.getsockname()[1]
        try:
            yield LeanServer(f"http://localhost:{port}", process.pid)
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def main(argv: Sequence[str] | None = None) -> int:
    import waitress

    parser = argparse.ArgumentParser(prog="python -m benchmarks.lean_login_server")
    parser.add_argument("--database", type=Path, required=True)
    parser.add_argument("--socket-fd", type=int, required=True)
    args = parser.parse_args(argv)
    engine = engine_for(args.database)
    app = create_app(engine, HashSettings.of_server().hasher())
    listening = socket.socket(fileno=args.socket_fd)
    # A queue of waiting requests is what a load is for, not news.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    server = waitress.create_server(app, sockets=[listening], threads=8)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        server.close()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        server.run()
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
