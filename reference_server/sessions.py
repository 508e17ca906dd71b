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
from sqlalchemy import delete
from werkzeug.datastructures import CallbackDict

from reference_server.checks import performs
from reference_server.models import WebSession

COOKIE_NAME = "session_id"


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
        with app.extensions["reference_server.sessionmaker"]() as dbs:
            row = dbs.get(WebSession, sid)
            if row is None or row.expires < now:
                return ServerSession()
            return ServerSession(json.loads(row.data), sid=sid)

    def save_session(self, app: Flask, session: ServerSession, response: Response) -> None:  # type: ignore[override]
        """Write, rotate or delete the session's row and set or delete the cookie."""
        config = app.extensions["reference_server.config"]
        # Secure only under https, so that the harness can drive plain http on localhost.
        secure = request.is_secure
        factory = app.extensions["reference_server.sessionmaker"]
        if session.destroy_requested or (not session and session.modified):
            if session.sid and performs("logout-ends-session"):
                with factory() as dbs, dbs.begin():
                    dbs.execute(delete(WebSession).where(WebSession.id == session.sid))
            response.delete_cookie(
                COOKIE_NAME, path="/", secure=secure, httponly=True, samesite="Lax"
            )
            return
        if not session.modified:
            return
        now = app.extensions["reference_server.clock"]()
        with factory() as dbs, dbs.begin():
            if session.rotate_requested and session.sid:
                dbs.execute(delete(WebSession).where(WebSession.id == session.sid))
                session.sid = None
            if session.sid is None:
                session.sid = secrets.token_urlsafe(32)
                dbs.add(WebSession(id=session.sid, data="{}", expires=0))
                dbs.flush()
            row = dbs.get(WebSession, session.sid)
            if row is None:  # deleted meanwhile (logout in another tab): start afresh
                row = WebSession(id=session.sid, data="{}", expires=0)
                dbs.add(row)
            row.data = json.dumps(dict(session))
            row.expires = now + config.session_max_age
        response.set_cookie(
            COOKIE_NAME,
            session.sid,
            max_age=config.session_max_age,
            path="/",
            secure=secure,
            httponly=performs("session-cookie-httponly"),
            samesite="Lax",
        )
