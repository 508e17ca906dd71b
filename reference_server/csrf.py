"""CSRF protection: a random token per session, required in every POST form.

The token is kept in the session and compared in constant time. A new one is issued when the
session rotates (login, second factor), so a token seen before login is useless after it.
"""

from __future__ import annotations

import hmac
import secrets

from flask import abort, request, session

SESSION_KEY = "csrf_token"
FIELD_NAME = "csrf_token"


def csrf_token() -> str:
    """The session's CSRF token, created on first use (templates call this)."""
    token = session.get(SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        session[SESSION_KEY] = token
    return token


def new_csrf_token() -> None:
    """Replace the session's token with a fresh one (the old one stops working)."""
    session[SESSION_KEY] = secrets.token_urlsafe(32)


def check_csrf() -> None:
    """Abort with 400 "Bad CSRF Token" unless a POST carries the session's token."""
    if request.method != "POST":
        return
    expected = session.get(SESSION_KEY)
    given = request.form.get(FIELD_NAME, "")
    if not expected or not hmac.compare_digest(expected.encode(), given.encode()):
        abort(400, description="Bad CSRF Token")
