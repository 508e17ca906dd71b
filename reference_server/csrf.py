"""CSRF protection: a random token per session, required in every POST form.

The token is kept in the session and compared in constant time. A new one is issued when the
session rotates (login, second factor), so a token seen before login is useless after it.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, current_app, request, session

from reference_server.checks import performs

SESSION_KEY = "csrf_token"
FIELD_NAME = "csrf_token"

View = TypeVar("View", bound=Callable[..., Any])


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


def exempt(view: View) -> View:
    """Mark ``view`` as taking POSTs without a token: only test mode's loopback-only hooks,
    which a program calls with JSON and no session."""
    view.csrf_exempt = True  # type: ignore[attr-defined]
    return view


def check_csrf() -> None:
    """Abort with 400 "Bad CSRF Token" unless a POST carries the session's token (or goes to
    a view marked with :func:`exempt`)."""
    if request.method != "POST" or not performs("csrf"):
        return
    # No view matched (404, 405): there is nothing to protect, and the routing error answers,
    # so an unknown path looks the same whatever the method (test mode's hooks when it is off).
    if request.routing_exception is not None:
        return
    if getattr(current_app.view_functions.get(request.endpoint or ""), "csrf_exempt", False):
        return
    expected = session.get(SESSION_KEY)
    given = request.form.get(FIELD_NAME, "")
    if not expected or not hmac.compare_digest(expected.encode(), given.encode()):
        abort(400, description="Bad CSRF Token")
