"""The login state and the helpers every view shares.

A session is logged in only when it holds ``user_id`` (set by :func:`complete_login`, after
the second factor when the user has one) and the ``password_date`` it was logged in with still
matches the user's, so a password change logs out every other session. The password step
alone stores nothing about the user in the session: the pending login lives in a signed URL.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from flask import current_app, g, redirect, render_template, request, session, url_for
from sqlalchemy import bindparam, func, select
from werkzeug.wrappers import Response

from reference_server import mail
from reference_server.checks import performs
from reference_server.config import ServerConfig
from reference_server.csrf import SESSION_KEY as CSRF_SESSION_KEY
from reference_server.csrf import new_csrf_token
from reference_server.db import db
from reference_server.models import Event, User
from reference_server.passwords import Passwords
from reference_server.ratelimits import RateLimits
from reference_server.tokens import Tokens
from reference_server.totp_clocks import TotpClocks


def config() -> ServerConfig:
    """The running app's configuration."""
    return current_app.extensions["reference_server.config"]


def now() -> float:
    """The app clock (POSIX seconds); tests replace it."""
    return current_app.extensions["reference_server.clock"]()


def totp_now(user: User) -> float:
    """The time ``user``'s TOTP codes are checked at (login and provisioning alike).

    The app clock, unless test mode has fixed this user's TOTP clock (``/_test/totp-clock``).
    Every TOTP check goes through here, so a test time also drives the replay guard, which
    stores the step matched at this time.
    """
    clocks: TotpClocks | None = current_app.extensions.get("reference_server.totp_clocks")
    fixed = clocks.get(user.id) if clocks is not None else None
    return now() if fixed is None else fixed


def passwords() -> Passwords:
    """The app's password hasher."""
    return current_app.extensions["reference_server.passwords"]


def tokens() -> Tokens:
    """The app's token service."""
    return current_app.extensions["reference_server.tokens"]


def ratelimits() -> RateLimits:
    """The app's rate limiters."""
    return current_app.extensions["reference_server.ratelimits"]


def client_ip() -> str:
    """The client's address as the WSGI server saw it (no proxy headers are trusted)."""
    return request.remote_addr or "unknown"


def current_user() -> User | None:
    """The fully logged-in user of this session, or None."""
    if "current_user" in g:
        return g.current_user
    user = None
    user_id = session.get("user_id")
    if isinstance(user_id, int):
        user = db().get(User, user_id)
        if user is not None and session.get("password_date") != user.password_date:
            user = None
    g.current_user = user
    return user


# Built once: every login and test hook looks a user up by name, and building and cache-keying
# the statement costs more than running it.
_USER_BY_NAME = select(User).where(func.lower(User.username) == bindparam("name"))


def find_user(username: str) -> User | None:
    """The user named ``username`` (case-insensitively, as Warehouse), or None."""
    if not username or len(username) > 50:
        return None
    return db().scalar(_USER_BY_NAME, {"name": username.lower()})


def login_redirect() -> Response:
    """303 to the login page, coming back here afterwards."""
    path = request.full_path if request.query_string else request.path
    return redirect(url_for("accounts.login", next=path), 303)


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Views that need a full login: others get 303 to ``/account/login/?next=<path>``."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return login_redirect()
        return view(*args, **kwargs)

    return wrapped


def complete_login(user: User) -> None:
    """Log ``user`` in: new session id and CSRF token, fresh auth time, last_login, an event.

    Commits. Any earlier pending two-factor or password-reset token of the user is void from
    here on, because it was issued before ``last_login``.
    """
    moment = now()
    fresh_session()
    session["user_id"] = user.id
    session["password_date"] = user.password_date
    session["auth_time"] = moment
    user.last_login = moment
    record_event(user, "account:login:success")
    db().commit()
    g.current_user = user


def fresh_session() -> None:
    """Give the session a new id and CSRF token, keeping only its pending flash messages.

    Called at every change of privilege (password step, login), so that a session id or CSRF
    token from before it is worth nothing after it (session fixation).
    """
    flashes = session.get("_flashes")
    csrf_token = session.get(CSRF_SESSION_KEY)
    if performs("session-rotation"):
        session.rotate()
    session.clear()
    if performs("csrf-token-renewal") or not csrf_token:
        new_csrf_token()
    else:
        session[CSRF_SESSION_KEY] = csrf_token
    if flashes:
        session["_flashes"] = flashes


def reauth_needed(max_age: int) -> bool:
    """True when the session's last authentication is older than ``max_age`` seconds."""
    auth_time = session.get("auth_time")
    if not performs("reauthentication"):
        return False
    return not isinstance(auth_time, int | float) or now() - auth_time > max_age


def reauth_form(status: int = 200, errors: list[str] | None = None) -> tuple[str, int]:
    """The password re-check form, rendered in place of the current (sensitive) page."""
    return render_template(
        "reauthenticate.html",
        next_route=request.endpoint,
        next_route_matchdict=json.dumps(request.view_args or {}),
        next_route_query=json.dumps(request.args.to_dict()),
        errors=errors or [],
    ), status


def require_reauth(max_age_setting: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Views behind a recent authentication; ``max_age_setting`` names a ServerConfig field."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if reauth_needed(getattr(config(), max_age_setting)):
                return reauth_form()
            return view(*args, **kwargs)

        return wrapped

    return decorator


def record_event(user: User, tag: str, additional: dict[str, Any] | None = None) -> None:
    """Add a security event for ``user`` to the request's unit of work (the caller commits)."""
    db().add(
        Event(user_id=user.id, tag=tag, time=now(), ip_address=client_ip(), additional=additional)
    )


def absolute_url(endpoint: str, **values: Any) -> str:
    """An absolute link to ``endpoint`` on the request's host (the server's base URL)."""
    return request.host_url.rstrip("/") + url_for(endpoint, **values)


def email_user(user: User, subject: str, template: str, **context: Any) -> None:
    """Mail ``user``'s primary address a message rendered from ``mail/<template>``."""
    address = user.primary_email
    if address is None:
        return
    body = render_template(f"mail/{template}", user=user, **context)
    mail.send_mail(current_app.extensions["reference_server.mail"], address.email, subject, body)
