"""Account views: index, register, email verification, login, logout, password reset,
re-authentication."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import func, select
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response

from reference_server import features
from reference_server.auth import (
    absolute_url,
    client_ip,
    complete_login,
    config,
    current_user,
    email_user,
    find_user,
    fresh_session,
    login_redirect,
    login_required,
    now,
    passwords,
    ratelimits,
    record_event,
    tokens,
)
from reference_server.checks import performs
from reference_server.db import db
from reference_server.models import Email, Event, User
from reference_server.passwords import password_errors
from reference_server.tokens import TokenExpired, TokenInvalid
from reference_server.validation import (
    EMAIL_INVALID,
    NAME_MAX,
    USERNAME_INVALID,
    safe_next,
    valid_email,
    valid_username,
)
from reference_server.views import locked_out

bp = Blueprint("accounts", __name__)

REQUIRED = "This field is required."
BAD_CREDENTIALS = "Invalid username or password. Try again."
BAD_PASSWORD = "The password is invalid. Try again."
RESET_SENT = "The email contains a link to reset your password. This link will expire in {}."
REMEMBER_COOKIE = "remember_device"
KEYS_WIPED = (
    "Your security devices were removed by the index's administrators. Two-factor"
    " authentication is off until you set it up again: add a security device or an"
    " authentication application under Account settings, Two-factor authentication."
)


@bp.route("/")
def index() -> str:
    """The public home page."""
    return render_template("index.html")


@bp.route("/account/register/", methods=["GET", "POST"])
def register() -> Response | str | tuple[str, int]:
    """Create an account, log it in and mail a verification link."""
    if current_user() is not None:
        return redirect("/", 303)
    if request.method == "GET":
        return render_template("register.html", values={}, errors={})
    if request.form.get("confirm_form") and performs("registration-honeypot"):
        abort(400, description="Bad request")
    values = {k: request.form.get(k, "") for k in ("full_name", "email", "username")}
    values = {k: v.strip() for k, v in values.items()}
    new_password = request.form.get("new_password", "")
    errors: dict[str, list[str]] = {}
    if len(values["full_name"]) > NAME_MAX:
        errors["full_name"] = [
            f"The name is too long. Choose a name with {NAME_MAX} characters or less."
        ]
    if not values["username"]:
        errors["username"] = [REQUIRED]
    elif not valid_username(values["username"]):
        errors["username"] = [USERNAME_INVALID]
    elif find_user(values["username"]) is not None:
        errors["username"] = [
            "This username is already being used by another account. Choose a different username."
        ]
    if not values["email"]:
        errors["email"] = [REQUIRED]
    elif not valid_email(values["email"]):
        errors["email"] = [EMAIL_INVALID]
    elif db().scalar(select(Email).where(func.lower(Email.email) == values["email"].lower())):
        errors["email"] = [
            "This email address is already being used by another account. Use a different email."
        ]
    problems = password_errors(new_password, list(values.values()))
    if problems:
        errors["new_password"] = problems
    if new_password != request.form.get("password_confirm", ""):
        errors["password_confirm"] = ["Your passwords don't match. Try again."]
    if errors:
        return render_template("register.html", values=values, errors=errors), 200
    moment = now()
    user = User(
        username=values["username"],
        name=values["full_name"],
        password=passwords().hash(new_password),
        password_date=moment,
        date_joined=moment,
    )
    user.emails.append(Email(email=values["email"], primary=True, verified=False))
    db().add(user)
    db().flush()
    record_event(user, "account:create")
    complete_login(user)
    send_verification_email(user.emails[0])
    flash(
        "Your account has been created. Check your inbox to verify your email address.", "success"
    )
    return redirect("/", 303)


def send_verification_email(address: Email) -> None:
    """Mail a signed link that verifies ``address``."""
    token = tokens().dumps("email", {"action": "email-verify", "email_id": address.id})
    link = absolute_url("accounts.verify_email", token=token)
    email_user(
        address.user,
        "Verify your email",
        "verify_email.txt",
        link=link,
        address=address.email,
        max_age=config().email_verify_max_age,
    )


@bp.route("/account/verify-email/")
@login_required
def verify_email() -> Response:
    """Mark the logged-in user's address verified, given a genuine, fresh link."""
    user = current_user()
    assert user is not None
    try:
        payload = tokens().loads(
            "email", request.args.get("token", ""), config().email_verify_max_age
        )
    except TokenExpired:
        flash("Expired token: request a new email verification link", "error")
        return redirect(url_for("manage.account"), 303)
    except TokenInvalid:
        flash("Invalid token: request a new email verification link", "error")
        return redirect(url_for("manage.account"), 303)
    address = (
        db().get(Email, payload.get("email_id"))
        if payload.get("action") == "email-verify" and isinstance(payload.get("email_id"), int)
        else None
    )
    if address is None or (address.user_id != user.id and performs("email-verification-owner")):
        flash("Invalid token: not an email address of this account", "error")
        return redirect(url_for("manage.account"), 303)
    if not address.verified:
        address.verified = True
        record_event(user, "account:email:verified", {"email": address.email})
        db().commit()
    flash(f"Email address {address.email} verified.", "success")
    return redirect(url_for("manage.account"), 303)


@bp.route("/account/login/", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    """Password step; a user with 2FA is sent on to the signed two-factor URL."""
    if current_user() is not None:
        return redirect("/", 303)
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("login.html", next=next_url, username="", errors={})
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    errors: dict[str, list[str]] = {}
    if not username:
        errors["username"] = [REQUIRED]
    if not password:
        errors["password"] = [REQUIRED]
    if errors:
        return render_template("login.html", next=next_url, username=username, errors=errors)
    limits = ratelimits()
    # Keyed by the name typed, known or not, so that a lock-out does not reveal an account.
    user_key = username.lower()[:100]
    checks = (
        (limits.login_global, "global"),
        (limits.login_ip, client_ip()),
        (limits.login_user, user_key),
    )
    with limits.attempt(*checks) as attempt:
        if attempt.retry_after is not None:
            return locked_out(
                "login.html", attempt.retry_after, next=next_url, username=username, errors={}
            )
        user = find_user(username)
        ok = passwords().verify(user.password if user else None, password)
        if not ok and performs("login-rate-limit"):
            attempt.count()
    if not ok:
        if user is not None:
            record_event(user, "account:login:failure", {"reason": "invalid_password"})
            db().commit()
        return render_template(
            "login.html", next=next_url, username=username, errors={"password": [BAD_CREDENTIALS]}
        )
    assert user is not None
    if passwords().needs_rehash(user.password):
        user.password = passwords().hash(password)
    if user.has_two_factor and not remembered_device(user):
        db().commit()
        return start_two_factor(user, next_url or "/")
    if not user.has_two_factor and keys_wiped_since_last_login(user):
        flash(KEYS_WIPED, "warning")
    complete_login(user)
    return redirect(next_url or url_for("projects.project_list"), 303)


def keys_wiped_since_last_login(user: User) -> bool:
    """True when the administrators removed the user's security keys after their last login."""
    wiped = db().scalar(
        select(func.max(Event.time)).where(
            Event.user_id == user.id, Event.tag == "account:webauthn:wiped"
        )
    )
    return wiped is not None and (user.last_login is None or wiped > user.last_login)


def start_two_factor(user: User, redirect_to: str) -> Response:
    """After a right password: 303 to the signed two-factor URL.

    The session gets a new id and CSRF token and holds no user: the pending login is only
    in the signed token, which is void once the user completes any login.
    """
    if not performs("second-factor-at-login"):
        complete_login(user)
        return redirect(safe_next(redirect_to) or "/", 303)
    fresh_session()
    token = tokens().dumps("two-factor", {"user_id": user.id, "redirect_to": redirect_to})
    return redirect(f"{url_for('two_factor.two_factor')}?{token}", 303)


def remembered_device(user: User) -> bool:
    """True when the request carries this user's remember-device cookie, still valid."""
    cookie = request.cookies.get(REMEMBER_COOKIE)
    if not cookie or not features.has("remember-device"):
        return False
    try:
        payload = tokens().loads("remember-device", cookie, config().remember_device_max_age)
    except (TokenExpired, TokenInvalid):
        return False
    if not performs("remember-device-owner"):
        return True
    return payload.get("user_id") == user.id and payload.get("password_date") == user.password_date


def remember_device(response: Response, user: User) -> None:
    """Set the signed remember-device cookie of ``user`` on ``response`` (nothing on a server
    without remembered devices)."""
    if not features.has("remember-device"):
        return
    value = tokens().dumps(
        "remember-device", {"user_id": user.id, "password_date": user.password_date}
    )
    response.set_cookie(
        REMEMBER_COOKIE,
        value,
        max_age=config().remember_device_max_age,
        path=url_for("accounts.login"),
        secure=request.is_secure,
        httponly=True,
        samesite="Strict",
    )


@bp.route("/account/logout/", methods=["GET", "POST"])
def logout() -> Response | str:
    """GET: a confirmation form; POST: destroy the session, then 303 to ``/``."""
    if request.method == "GET":
        if current_user() is None:
            return redirect("/", 303)
        return render_template("logout.html")
    session.destroy()
    return redirect("/", 303)


@bp.route("/account/request-password-reset/", methods=["GET", "POST"])
def request_password_reset() -> Response | str:
    """Mail a reset link; the answer is the same for known, unknown and rate-limited accounts."""
    if current_user() is not None:
        return redirect("/", 303)
    if request.method == "GET":
        return render_template("request_password_reset.html", value="", errors={})
    value = request.form.get("username_or_email", "").strip()
    error = None
    if not value:
        error = REQUIRED
    elif "@" in value and not valid_email(value):
        error = EMAIL_INVALID
    elif "@" not in value and not valid_username(value):
        error = USERNAME_INVALID
    if error:
        return render_template(
            "request_password_reset.html", value=value, errors={"username_or_email": [error]}
        )
    if "@" in value:
        address = db().scalar(select(Email).where(func.lower(Email.email) == value.lower()))
        user = address.user if address else None
    else:
        user = find_user(value)
    if user is not None:
        with ratelimits().attempt((ratelimits().password_reset, str(user.id))) as attempt:
            # Here every request is counted, not only failures.
            allowed = attempt.retry_after is None or not performs("password-reset-rate-limit")
            if allowed:
                attempt.count()
        if allowed:
            token = tokens().dumps(
                "password",
                {
                    "action": "password-reset",
                    "user_id": user.id,
                    "last_login": user.last_login,
                    "password_date": user.password_date,
                },
            )
            email_user(
                user,
                "Password reset",
                "password_reset.txt",
                link=absolute_url("accounts.reset_password", token=token),
                expires=hours(config().password_reset_max_age),
            )
            record_event(user, "account:password:reset:request")
            db().commit()
    if user is None and not performs("reset-same-answer"):
        return render_template(
            "request_password_reset.html",
            value=value,
            errors={"username_or_email": ["No user found with that username or email"]},
        )
    return render_template(
        "password_reset_sent.html",
        message=RESET_SENT.format(hours(config().password_reset_max_age)),
    )


def hours(seconds: int) -> str:
    """``"6 hours"`` (or minutes, for short ages)."""
    if seconds % 3600 == 0:
        count, unit = seconds // 3600, "hour"
    else:
        count, unit = max(1, seconds // 60), "minute"
    return f"{count} {unit}{'s' if count != 1 else ''}"


def reset_token_user() -> User | str:
    """The user of the request's reset token, or the refusal message."""
    token = request.args.get("token", "")
    if not token:
        return "Invalid token: no token supplied"
    try:
        max_age = config().password_reset_max_age if performs("reset-link-expiry") else None
        payload = tokens().loads("password", token, max_age)
    except TokenExpired:
        return "Expired token: request a new password reset link"
    except TokenInvalid:
        return "Invalid token: request a new password reset link"
    user_id = payload.get("user_id")
    if payload.get("action") != "password-reset" or not isinstance(user_id, int):
        return "Invalid token: not a password reset token"
    user = db().get(User, user_id)
    if user is None:
        return "Invalid token: user not found"
    # As Warehouse: the token names the state it was issued in; any change voids it.
    if payload.get("last_login") != user.last_login and performs("reset-link-last-login"):
        return "Invalid token: user has logged in since this token was requested"
    if payload.get("password_date") != user.password_date and performs("reset-link-password-date"):
        return "Invalid token: password has already been changed since this token was requested"
    return user


@bp.route("/account/reset-password/", methods=["GET", "POST"])
def reset_password() -> Response | str:
    """Set a new password from a mailed link; the link then stops working."""
    user = reset_token_user()
    if isinstance(user, str):
        flash(user, "error")
        return redirect(url_for("accounts.request_password_reset"), 303)
    token = request.args.get("token", "")
    if request.method == "GET":
        return render_template("reset_password.html", token=token, errors={})
    new_password = request.form.get("new_password", "")
    errors: dict[str, list[str]] = {}
    address = user.primary_email
    problems = password_errors(
        new_password, [user.username, user.name, address.email if address else ""]
    )
    if problems:
        errors["new_password"] = problems
    if new_password != request.form.get("password_confirm", ""):
        errors["password_confirm"] = ["Your passwords don't match. Try again."]
    if errors:
        return render_template("reset_password.html", token=token, errors=errors)
    user.password = passwords().hash(new_password)
    user.password_date = now()
    record_event(user, "account:password:reset")
    db().commit()
    email_user(user, "Password changed", "password_changed.txt")
    flash("You have reset your password", "success")
    return redirect(url_for("accounts.login"), 303)


def parse_json_object(text: str) -> dict[str, str]:
    """A JSON object of strings, or abort 400."""
    try:
        value = json.loads(text)
    except ValueError:
        abort(400, description="Bad next_route_matchdict or next_route_query: not JSON")
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        abort(
            400,
            description="Bad next_route_matchdict or next_route_query: not an object of strings",
        )
    return value


@bp.route("/account/reauthenticate/", methods=["POST"])
def reauthenticate() -> Response | str | tuple[str, int]:
    """Check the session user's password again, then 303 to the page that asked."""
    user = (
        current_user()
        if performs("reauthentication-user")
        else find_user(request.form.get("username", ""))
    )
    if user is None:
        return login_redirect()
    next_route = request.form.get("next_route", "")
    matchdict_text = request.form.get("next_route_matchdict", "{}")
    query_text = request.form.get("next_route_query", "{}")
    if next_route not in current_app.view_functions or next_route == "static":
        abort(400, description="Unknown next_route")
    matchdict = parse_json_object(matchdict_text)
    query = parse_json_object(query_text)
    try:
        target = url_for(next_route, **matchdict)
    except BuildError:
        abort(400, description="next_route_matchdict does not fit next_route")
    if query:
        target = f"{target}?{urlencode(query)}"
    context = {
        "next_route": next_route,
        "next_route_matchdict": matchdict_text,
        "next_route_query": query_text,
    }
    limits = ratelimits()
    checks = ((limits.login_ip, client_ip()), (limits.login_user, user.username.lower()))
    with limits.attempt(*checks) as attempt:
        if attempt.retry_after is not None:
            return locked_out("reauthenticate.html", attempt.retry_after, errors=[], **context)
        ok = passwords().verify(user.password, request.form.get("password", ""))
        if not ok:
            attempt.count()
    if not ok:
        record_event(user, "account:reauthenticate:failure")
        db().commit()
        return render_template("reauthenticate.html", errors=[BAD_PASSWORD], **context)
    session["auth_time"] = now()
    return redirect(target, 303)
