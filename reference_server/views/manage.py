"""Management pages: account, two-factor settings, TOTP provisioning, recovery codes, projects."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import delete
from werkzeug.wrappers import Response

from reference_server import otp, recovery_codes
from reference_server.auth import (
    client_ip,
    config,
    current_user,
    email_user,
    login_required,
    now,
    passwords,
    ratelimits,
    record_event,
    require_reauth,
    totp_now,
)
from reference_server.checks import performs
from reference_server.db import db
from reference_server.models import RecoveryCode, User
from reference_server.views import locked_out
from reference_server.views.two_factor import recovery_code_attempt

bp = Blueprint("manage", __name__)

VERIFY_EMAIL_FIRST = "Verify your email to modify two factor authentication"
TOTP_SESSION_KEY = "totp_secret"


def no_store(response: Response) -> Response:
    """Mark a page that shows a secret as not to be cached anywhere."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def user() -> User:
    """The logged-in user (views here are all behind ``login_required``)."""
    found = current_user()
    assert found is not None
    return found


def email_verified(account: User) -> bool:
    """True when the primary address is verified (needed for any 2FA change)."""
    primary = account.primary_email
    return primary is not None and (primary.verified or not performs("verified-email-for-2fa"))


def to_two_factor_page(message: str | None = None) -> Response:
    """303 to the two-factor settings, with an error flash when ``message`` is given."""
    if message:
        flash(message, "error")
    return redirect(url_for("manage.account_two_factor"), 303)


@bp.route("/manage/account/")
@login_required
def account() -> str:
    """Email addresses and a link to the two-factor settings."""
    return render_template("manage_account.html", user=user())


@bp.route("/manage/account/two-factor/")
@login_required
@require_reauth("reauth_max_age")
def account_two_factor() -> str:
    """What is set up, and the links to add or remove it."""
    account = user()
    return render_template(
        "manage_two_factor.html", user=account, email_verified=email_verified(account)
    )


def provisioning_precondition(account: User) -> Response | None:
    """Where to send a user who may not provision TOTP now, or None."""
    if not email_verified(account):
        return to_two_factor_page(VERIFY_EMAIL_FIRST)
    if account.has_totp and performs("totp-provisioning-once"):
        return to_two_factor_page()
    return second_factor_prerequisites(account)


def second_factor_prerequisites(account: User) -> Response | None:
    """Where to send a user who may not add any second factor (TOTP or a key) yet, or None.

    A verified email; under the current profile, recovery codes generated and one burned.
    """
    if not email_verified(account):
        return to_two_factor_page(VERIFY_EMAIL_FIRST)
    if config().profile == "current" and performs("recovery-codes-first"):
        if not account.has_recovery_codes:
            return redirect(url_for("manage.recovery_codes_generate"), 303)
        if not account.has_burned_recovery_codes:
            return redirect(url_for("manage.recovery_codes_burn"), 303)
    return None


def provisioning_page(secret: bytes, errors: list[str] | None = None) -> Response:
    """The provisioning form for ``secret`` (never cached: it shows the secret)."""
    account = user()
    response = make_response(
        render_template(
            "totp_provision.html",
            secret=otp.secret_base32(secret),
            uri=otp.provisioning_uri(secret, account.username),
            errors={"totp": errors} if errors else {},
        )
    )
    return no_store(response)


@bp.route("/manage/account/totp-provision", methods=["GET", "POST"])
@login_required
@require_reauth("reauth_max_age")
def totp_provision() -> Response:
    """GET: a new secret; POST ``totp_value``: enable it; POST ``confirm_password``: remove."""
    account = user()
    if request.method == "POST" and "confirm_password" in request.form:
        return remove_totp(account)
    refused = provisioning_precondition(account)
    if refused is not None:
        return refused
    if request.method == "GET":
        secret = otp.generate_secret()
        session[TOTP_SESSION_KEY] = otp.secret_base32(secret)
        return provisioning_page(secret)
    pending = session.get(TOTP_SESSION_KEY)
    if not pending:
        flash("Start the set-up again: no secret was pending.", "error")
        return redirect(url_for("manage.totp_provision"), 303)
    secret = otp.b32decode(pending)
    try:
        code = otp.canonical_code(
            request.form.get("totp_value", ""), ascii_only=performs("totp-code-format")
        )
    except otp.TotpFormatError as exc:
        return provisioning_page(secret, [str(exc)])
    moment = totp_now(account)
    step = otp.matching_step(secret, code, moment)
    if step is None and performs("totp-provisioning-code"):
        if otp.out_of_sync(secret, code, moment):
            return provisioning_page(
                secret, ["Invalid TOTP code. Your device time may be out of sync."]
            )
        return provisioning_page(secret, ["Invalid TOTP code. Try again?"])
    account.totp_secret = secret
    # As in Warehouse, confirming the secret does not spend the code: replay protection starts
    # with the first login, so a user can log in with the code still on their screen.
    account.last_totp_step = None
    session.pop(TOTP_SESSION_KEY, None)
    record_event(account, "account:two_factor:method_added", {"method": "totp"})
    db().commit()
    email_user(
        account,
        "Two-factor method added",
        "two_factor_added.txt",
        method="an authentication application (TOTP)",
    )
    flash("Authentication application successfully set up", "success")
    return redirect(url_for("manage.account"), 303)


def remove_totp(account: User) -> Response:
    """Remove TOTP given the right ``confirm_password``, unless it is the last method."""
    if not account.has_totp:
        return to_two_factor_page("There is no authentication application to remove.")
    limits = ratelimits()
    checks = ((limits.login_ip, client_ip()), (limits.login_user, account.username.lower()))
    with limits.attempt(*checks) as attempt:
        if attempt.retry_after is not None:
            return locked_out(
                "manage_two_factor.html",
                attempt.retry_after,
                user=account,
                email_verified=email_verified(account),
            )
        ok = not performs("totp-removal-password") or passwords().verify(
            account.password, request.form.get("confirm_password", "")
        )
        if not ok:
            attempt.count()
    if not ok:
        record_event(account, "account:two_factor:removal_failed", {"method": "totp"})
        db().commit()
        return to_two_factor_page("Invalid credentials. Try again")
    others = [m for m in account.two_factor_methods if m != "totp"]
    if config().profile == "current" and not others and performs("last-2fa-method"):
        return to_two_factor_page("Cannot remove last 2FA method")
    account.totp_secret = None
    account.last_totp_step = None
    record_event(account, "account:two_factor:method_removed", {"method": "totp"})
    db().commit()
    email_user(
        account,
        "Two-factor method removed",
        "two_factor_removed.txt",
        method="an authentication application (TOTP)",
    )
    flash(
        "Authentication application removed. Remember to remove the account from your application.",
        "success",
    )
    return to_two_factor_page()


@bp.route("/manage/account/totp-provision/image")
@login_required
def totp_provision_image() -> Response:
    """The pending secret's QR code as SVG; 404 when no set-up is in progress."""
    account = user()
    pending = session.get(TOTP_SESSION_KEY)
    if account.has_totp or not pending:
        abort(404)
    svg = otp.qr_svg(otp.provisioning_uri(otp.b32decode(pending), account.username))
    response = make_response(svg)
    response.headers["Content-Type"] = "image/svg+xml"
    return no_store(response)


def recovery_codes_precondition(account: User) -> Response | None:
    """Recovery codes are a 2FA setting: they need a verified primary email."""
    if not email_verified(account):
        return to_two_factor_page(VERIFY_EMAIL_FIRST)
    return None


def show_new_codes(account: User, event: str) -> Response:
    """Replace the user's codes with a new set, mail a notice and show them once."""
    codes = recovery_codes.generate()
    moment = now()
    if performs("recovery-codes-regeneration"):
        db().execute(delete(RecoveryCode).where(RecoveryCode.user_id == account.id))
    db().add_all(
        RecoveryCode(user_id=account.id, code=recovery_codes.hash_code(c), generated=moment)
        for c in codes
    )
    record_event(account, event)
    db().commit()
    db().expire(account, ["recovery_codes"])
    email_user(account, "Recovery codes generated", "recovery_codes_generated.txt")
    return no_store(make_response(render_template("recovery_codes.html", codes=codes, exist=False)))


@bp.route("/manage/account/recovery-codes/generate")
@login_required
@require_reauth("reauth_recovery_codes_max_age")
def recovery_codes_generate() -> Response:
    """A first set of codes; when codes exist, a link to regenerate instead."""
    account = user()
    refused = recovery_codes_precondition(account)
    if refused is not None:
        return refused
    if account.has_recovery_codes and performs("recovery-codes-shown-once"):
        return no_store(make_response(render_template("recovery_codes.html", codes=[], exist=True)))
    return show_new_codes(account, "account:recovery_codes:generated")


@bp.route("/manage/account/recovery-codes/regenerate")
@login_required
@require_reauth("reauth_recovery_codes_max_age")
def recovery_codes_regenerate() -> Response:
    """A new set of codes; the old ones stop working."""
    account = user()
    refused = recovery_codes_precondition(account)
    if refused is not None:
        return refused
    return show_new_codes(account, "account:recovery_codes:regenerated")


@bp.route("/manage/account/recovery-codes/burn", methods=["GET", "POST"])
@login_required
def recovery_codes_burn() -> Response | str:
    """Prove the codes were saved by using one of them."""
    account = user()
    refused = recovery_codes_precondition(account)
    if refused is not None:
        return refused
    if not account.has_recovery_codes:
        return redirect(url_for("manage.recovery_codes_generate"), 303)
    context = {"user": account, "errors": {}}
    if request.method == "GET":
        return render_template("recovery_codes_burn.html", **context)
    answer = recovery_code_attempt(account, "recovery_codes_burn.html", context)
    if answer is not None:
        return answer
    record_event(account, "account:recovery_codes:burned")
    db().commit()
    email_user(account, "Recovery code used", "recovery_code_used.txt")
    flash("Recovery code accepted. The supplied code cannot be used again.", "success")
    return to_two_factor_page()
