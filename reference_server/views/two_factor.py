"""The second login step: a TOTP code or a recovery code, given the signed pending-login token.

The token is the whole query string (as Warehouse). TOTP and recovery-code failures share
one per-user and one per-IP limiter; once either is exceeded even a right code gets 429.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import or_, true, update
from werkzeug.wrappers import Response

from reference_server import otp, recovery_codes
from reference_server.auth import (
    client_ip,
    complete_login,
    config,
    current_user,
    email_user,
    now,
    ratelimits,
    record_event,
    tokens,
    totp_now,
)
from reference_server.checks import performs
from reference_server.db import db
from reference_server.models import RecoveryCode, User
from reference_server.ratelimits import Check
from reference_server.tokens import TokenExpired, TokenInvalid
from reference_server.validation import safe_next
from reference_server.views import locked_out
from reference_server.views.accounts import remember_device

bp = Blueprint("two_factor", __name__)

INVALID_LOGIN = "Invalid or expired two factor login."
INVALID_TOTP = "Invalid TOTP code."


def pending_login() -> tuple[User, dict] | None:
    """The user and payload of the request's two-factor token, or None when it is not valid.

    Not valid: malformed, forged, older than the two-factor max age, for a missing user,
    issued before the user's last login (so each token serves one login), or for a user
    without a second factor.
    """
    token = request.query_string.decode("ascii", "replace")
    try:
        max_age = config().two_factor_max_age if performs("two-factor-link-expiry") else None
        payload = tokens().loads("two-factor", token, max_age)
    except (TokenExpired, TokenInvalid):
        return None
    user_id = payload.get("user_id")
    user = db().get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.has_two_factor:
        return None
    if (
        performs("two-factor-link-single-use")
        and user.last_login is not None
        and user.last_login > payload["issued"]
    ):
        return None
    return user, payload


def invalid_login() -> Response:
    """303 to the login page with Warehouse's message."""
    flash(INVALID_LOGIN, "error")
    return redirect(url_for("accounts.login"), 303)


def second_factor_checks(user: User) -> tuple[Check, ...]:
    """The (limiter, key) pairs every second-factor attempt is counted against."""
    limits = ratelimits()
    return ((limits.two_factor_user, str(user.id)), (limits.two_factor_ip, client_ip()))


@bp.route("/account/two-factor/", methods=["GET", "POST"])
def two_factor() -> Response | str:
    """The TOTP form (and links to the other methods); POST checks a code."""
    if current_user() is not None:
        return redirect("/", 303)
    pending = pending_login()
    if pending is None:
        return invalid_login()
    user, payload = pending
    context = {"user": user, "token": request.query_string.decode("ascii"), "errors": {}}
    if request.method == "GET":
        return render_template("two_factor.html", **context)
    if request.form.get("method", "totp") != "totp" or not user.has_totp:
        return render_template("two_factor.html", **{**context, "errors": {"totp": [INVALID_TOTP]}})
    try:
        code = otp.canonical_code(
            request.form.get("totp_value", ""), ascii_only=performs("totp-code-format")
        )
    except otp.TotpFormatError as exc:
        return render_template("two_factor.html", **{**context, "errors": {"totp": [str(exc)]}})
    checks = second_factor_checks(user)
    with ratelimits().attempt(*checks) as attempt:
        if attempt.retry_after is not None:
            return locked_out("two_factor.html", attempt.retry_after, **context)
        assert user.totp_secret is not None
        window = otp.WINDOW if performs("totp-window") else (*otp.WINDOW, -2, 2)
        step = otp.matching_step(user.totp_secret, code, totp_now(user), window)
        # The step must grow: one atomic conditional update, so that of two requests with
        # one code (or a code of an earlier step in the window) only one passes.
        accepted = (
            step is not None
            and db()
            .execute(
                update(User)
                .where(User.id == user.id)
                .where(
                    or_(User.last_totp_step.is_(None), User.last_totp_step < step)
                    if performs("totp-replay")
                    else true()
                )
                .values(last_totp_step=step)
            )
            .rowcount
            == 1
        )
        db().commit()
        if not accepted and performs("totp-rate-limit"):
            attempt.count()
    if not accepted:
        record_event(user, "account:login:failure", {"reason": "invalid_totp"})
        db().commit()
        return render_template("two_factor.html", **{**context, "errors": {"totp": [INVALID_TOTP]}})
    complete_login(user)
    response = redirect(safe_next(payload.get("redirect_to")) or "/", 303)
    if request.form.get("remember_device"):
        remember_device(response, user)
    return response


def check_recovery_code(user: User, code: str) -> str | None:
    """Consume ``code`` (canonical) if it is one of ``user``'s unused codes.

    Returns None on success, else the user's error message. Every stored code is checked (no
    early exit), and the consumption is one conditional update, so a code is used once even
    by concurrent requests.
    """
    fresh, used = None, False
    owners_codes = performs("recovery-code-owner")
    for stored in list(user.recovery_codes) if owners_codes else db().query(RecoveryCode).all():
        if recovery_codes.matches(stored.code, code):
            if stored.burned is None:
                fresh = stored
            else:
                used = True
    if fresh is None:
        if used and not performs("recovery-code-single-use"):
            return None
        return recovery_codes.USED if used else recovery_codes.INVALID
    consumed = (
        db()
        .execute(
            update(RecoveryCode)
            .where(
                RecoveryCode.id == fresh.id,
                # Off: the code found unused above is burned whatever happened since
                # (check-then-act), as a server without the condition would.
                RecoveryCode.burned.is_(None) if performs("recovery-code-atomic-use") else true(),
            )
            .values(burned=now())
        )
        .rowcount
        == 1
    )
    db().commit()
    return None if consumed else recovery_codes.USED


def recovery_code_attempt(user: User, template: str, context: dict) -> Response | str | None:
    """Check the posted recovery code under the shared second-factor limits.

    Returns None when a code was consumed, else the page to answer with (errors or 429).
    """
    try:
        code = recovery_codes.canonical_code(request.form.get("recovery_code_value", ""))
    except recovery_codes.RecoveryCodeFormatError as exc:
        return render_template(
            template, **{**context, "errors": {"recovery_code_value": [str(exc)]}}
        )
    checks = second_factor_checks(user)
    with ratelimits().attempt(*checks) as attempt:
        if attempt.retry_after is not None:
            return locked_out(template, attempt.retry_after, **context)
        error = check_recovery_code(user, code)
        if error is not None and performs("recovery-code-rate-limit"):
            attempt.count()
    if error is not None:
        record_event(user, "account:recovery_codes:failure", {"reason": error})
        db().commit()
        return render_template(template, **{**context, "errors": {"recovery_code_value": [error]}})
    return None


@bp.route("/account/recovery-code/", methods=["GET", "POST"])
def recovery_code() -> Response | str:
    """Log in with a recovery code instead of the second factor."""
    if current_user() is not None:
        return redirect("/", 303)
    pending = pending_login()
    if pending is None or not pending[0].has_recovery_codes:
        return invalid_login()
    user, _payload = pending
    context = {"user": user, "token": request.query_string.decode("ascii"), "errors": {}}
    if request.method == "GET":
        return render_template("recovery_code.html", **context)
    answer = recovery_code_attempt(user, "recovery_code.html", context)
    if answer is not None:
        return answer
    record_event(user, "account:recovery_codes:used")
    complete_login(user)
    email_user(user, "Recovery code used", "recovery_code_used.txt")
    flash("Recovery code accepted. The supplied code cannot be used again.", "success")
    return redirect(url_for("manage.account"), 303)
