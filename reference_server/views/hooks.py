"""Test mode's hooks under ``/_test/``: JSON in and out, for the harness only.

The blueprint is registered only when the server runs with ``--test-mode``; without it every
``/_test/`` path is an unknown route (404). The hooks take no CSRF token, since a program calls
them without a session, and refuse (403) any client not on a loopback address, so that a test
server listening on a public interface does not hand them to the network.

Every refusal is ``{"error": "<one line>"}``: 400 for malformed input, 403 off loopback,
404 for an unknown user, 409 for a user in the wrong state. Seeded secrets are never logged.
"""

from __future__ import annotations

import binascii
import ipaddress
import logging
import re
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from reference_server import csrf, otp
from reference_server.auth import client_ip, find_user
from reference_server.db import db
from reference_server.models import User
from reference_server.shifted_clock import ShiftedClock
from reference_server.totp_clocks import TotpClocks

bp = Blueprint("test_hooks", __name__, url_prefix="/_test")
log = logging.getLogger(__name__)

# The drift window reaches one step either side of the test time: its earliest step must not
# fall before the epoch (pyotp refuses that), its latest must fit the 32-bit step column.
MIN_TIME = otp.INTERVAL
MAX_TIME = (2**31 - 2) * otp.INTERVAL
# Far enough for every age the server checks (the longest, a session, is 12 hours; emailed
# verification links, 72 hours).
MAX_CLOCK_OFFSET = 400 * 24 * 60 * 60
_BASE32 = re.compile(r"[A-Z2-7]+=*", re.ASCII)
SECRET_FORMAT = (
    f"secret must be the upper-case base32 form of {otp.SECRET_BYTES} bytes, as the server's"
    " own secrets are (32 characters, A-Z and 2-7)"
)


class HookRefusal(Exception):
    """A hook's answer to a request it does not carry out: an HTTP status and one line."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@bp.errorhandler(HookRefusal)
def refused(error: HookRefusal) -> tuple[Response, int]:
    """``{"error": message}`` with the refusal's status."""
    return jsonify({"error": str(error)}), error.status


@bp.before_request
def loopback_only() -> None:
    """Refuse (403) a client that is not on the server's own host."""
    try:
        loopback = ipaddress.ip_address(client_ip()).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise HookRefusal(403, "test hooks answer only requests from a loopback address")


def hook(path: str) -> Callable[[csrf.View], csrf.View]:
    """Serve the decorated view at ``POST /_test<path>``, taking no CSRF token."""

    def register(view: csrf.View) -> csrf.View:
        return bp.post(path)(csrf.exempt(view))

    return register


def posted(**parsers: Callable[[Any], Any]) -> dict[str, Any]:
    """The request's JSON object, which must have exactly the fields named by ``parsers``;
    each value goes through its parser, in the order given (input checks before look-ups)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise HookRefusal(400, "the body must be a JSON object sent as application/json")
    missing = [name for name in parsers if name not in body]
    unexpected = sorted(set(body) - set(parsers))
    if missing or unexpected:
        raise HookRefusal(
            400,
            f"the body must have exactly the fields {', '.join(parsers)}"
            f" (missing: {', '.join(missing) or 'none'};"
            f" unexpected: {', '.join(map(repr, unexpected)) or 'none'})",
        )
    return {name: parse(body[name]) for name, parse in parsers.items()}


def named_user(username: Any) -> User:
    """The user called ``username``; 400 when it is not a string, 404 when there is none."""
    if not isinstance(username, str):
        raise HookRefusal(400, "username must be a string")
    user = find_user(username)
    if user is None:
        raise HookRefusal(404, f"no user named {username[:50]!r}")
    return user


def posted_time(value: Any) -> int | None:
    """The posted test time: whole POSIX seconds within the usable range, or None."""
    if value is None:
        return None
    if type(value) is not int or not MIN_TIME <= value <= MAX_TIME:
        raise HookRefusal(
            400, f"time must be whole Unix seconds from {MIN_TIME} to {MAX_TIME}, or null"
        )
    return value


def seed_secret(value: Any) -> bytes:
    """The posted base32 secret as bytes: exactly the length of the server's own secrets."""
    if not isinstance(value, str) or not _BASE32.fullmatch(value):
        raise HookRefusal(400, SECRET_FORMAT)
    try:
        secret = otp.b32decode(value.rstrip("="))
    except binascii.Error:
        raise HookRefusal(400, SECRET_FORMAT) from None
    if len(secret) != otp.SECRET_BYTES:
        raise HookRefusal(400, SECRET_FORMAT)
    return secret


@hook("/totp-clock")
def totp_clock() -> Response:
    """``{"username", "time"}``: check that user's TOTP codes at ``time``; null: real time."""
    fields = posted(time=posted_time, username=named_user)
    user, time = fields["username"], fields["time"]
    clocks: TotpClocks = current_app.extensions["reference_server.totp_clocks"]
    clocks.set(user.id, time)
    log.info(
        "test hook: TOTP clock of user %r %s",
        user.username,
        "back on real time" if time is None else f"fixed at {time}",
    )
    return jsonify({"username": user.username, "time": time})


def clock_offset(value: Any) -> int:
    """The posted clock offset: whole seconds from 0 to :data:`MAX_CLOCK_OFFSET`."""
    if type(value) is not int or not 0 <= value <= MAX_CLOCK_OFFSET:
        raise HookRefusal(400, f"offset must be whole seconds from 0 to {MAX_CLOCK_OFFSET}")
    return value


@hook("/clock")
def clock() -> Response:
    """``{"offset"}``: run the whole server's clock ``offset`` seconds ahead of real time (0:
    real time again). Every age moves with it, and TOTP codes too: a code accepted ahead of
    time leaves that user's replay guard ahead when the clock comes back."""
    offset = posted(offset=clock_offset)["offset"]
    shifted: ShiftedClock = current_app.extensions["reference_server.clock"]
    shifted.offset = offset
    log.info("test hook: clock %s", f"{offset} s ahead" if offset else "back on real time")
    return jsonify({"offset": offset})


@hook("/totp-secret")
def totp_secret() -> Response:
    """``{"username", "secret"}``: replace a TOTP user's secret; their replay guard restarts."""
    fields = posted(secret=seed_secret, username=named_user)
    user = fields["username"]
    if not user.has_totp:
        raise HookRefusal(409, f"user {user.username!r} has no TOTP secret to replace")
    user.totp_secret = fields["secret"]
    # Codes of the seeded secret at any test time must pass once, whatever step was last
    # accepted for the secret it replaces.
    user.last_totp_step = None
    db().commit()
    log.info("test hook: TOTP secret of user %r replaced", user.username)
    return jsonify({"username": user.username})
