"""Server-side sessions: a Flask ``SessionInterface`` backed by the ``web_sessions`` table.

The cookie ``session_id`` carries a random id and nothing else. Views call
:meth:`ServerSession.rotate` at every privilege change (a new id, the old row deleted, so a
cookie captured before login is useless after it) and :meth:`ServerSession.destroy` at logout.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from flask import Flask, Request, Response, request
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import Engine, bindparam, delete, insert, select, update
from werkzeug.datastructures import CallbackDict

from reference_server.checks import performs
from reference_server.models import WebSession

COOKIE_NAME = "session_id"

# Every request reads or writes its session: the statements are built once, since building
# and cache-keying one costs more than SQLite takes to run it.
_READ = select(WebSession.data, WebSession.expires).where(WebSession.id == bindparam("sid"))
_DELETE = delete(WebSession).where(WebSession.id == bindparam("sid"))
_INSERT = insert(WebSession)
_UPDATE = (
    update(WebSession)
    .where(WebSession.id == bindparam("sid"))
    .values(data=bindparam("new_data"), expires=bindparam("new_expires"))
)


class ServerSession(CallbackDict, SessionMixin):
    """The session's data (JSON values) plus what must happen to its row when saved."""

    def __init__(self, initial: dict[str, Any] | None = None, sid: str | None = None) -> None:
        def on_update(session: ServerSession) -> None:
            session.modified = True

        super().__init__(initial, on_update)
        self.sid = sid
        self.modified = False
        self.rotate_requested = False
        self.destroy_requested = False

    def rotate(self) -> None:
        """Give the session a new id when the response is saved; the old id stops working."""
        self.rotate_requested = True
        self.modified = True

    def destroy(self) -> None:
        """Delete the session's row and cookie when the response is saved."""
        self.clear()
        self.destroy_requested = True


class DatabaseSessionInterface(SessionInterface):
    """Loads and stores :class:`ServerSession` objects in the database."""

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        """The session named by the request's cookie, or a new empty one."""
        sid = request.cookies.get(COOKIE_NAME)
        if not sid or len(sid) > 64:
            return ServerSession()
        now = app.extensions["reference_server.clock"]()
        # One Core query: an ORM session and an identity map would cost more than the read.
        engine: Engine = app.extensions["reference_server.engine"]
        with engine.connect() as connection:
            row = connection.execute(_READ, {"sid": sid}).first()
        if row is None or row.expires < now:
            return ServerSession()
        return ServerSession(json.loads(row.data), sid=sid)

    def save_session(self, app: Flask, session: ServerSession, response: Response) -> None:  # type: ignore[override]
        """Write, rotate or delete the session's row and set or delete the cookie."""
        config = app.extensions["reference_server.config"]
        # Secure only under https, so that the harness can drive plain http on localhost.
        secure = request.is_secure
        engine: Engine = app.extensions["reference_server.engine"]
        if session.destroy_requested or (not session and session.modified):
            if session.sid and performs("logout-ends-session"):
                with engine.begin() as connection:
                    connection.execute(_DELETE, {"sid": session.sid})
            response.delete_cookie(
                COOKIE_NAME, path="/", secure=secure, httponly=True, samesite="Lax"
            )
            return
        if not session.modified:
            return
        now = app.extensions["reference_server.clock"]()
        data, expires = json.dumps(dict(session)), now + config.session_max_age
        # Core statements, one per change: the row is written whole, never read back.
        with engine.begin() as connection:
            if session.rotate_requested and session.sid:
                connection.execute(_DELETE, {"sid": session.sid})
                session.sid = None
            if session.sid is None:
                session.sid = secrets.token_urlsafe(32)
                connection.execute(_INSERT, {"id": session.sid, "data": data, "expires": expires})
            elif (
                connection.execute(
                    _UPDATE, {"sid": session.sid, "new_data": data, "new_expires": expires}
                ).rowcount
                == 0
            ):  # deleted meanwhile (logout in another tab): start afresh
                connection.execute(_INSERT, {"id": session.sid, "data": data, "expires": expires})
        response.set_cookie(
            COOKIE_NAME,
            session.sid,
            max_age=config.session_max_age,
            path="/",
            secure=secure,
            httponly=performs("session-cookie-httponly"),
            samesite="Lax",
        )
