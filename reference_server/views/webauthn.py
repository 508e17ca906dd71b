"""WebAuthn security keys: provisioning, removal and the login step, on Warehouse's routes.

JSON endpoints answer ``{"fail": {"errors": [...]}}`` on refusal: HTTP 200 for a refusal
Warehouse also answers with 200, 400 when the posted credential cannot even be parsed, 429
when the second-factor limits are exceeded. Each options call stores a single-use challenge
in the server-side session; each validate call removes it first, whatever the outcome, so a
replayed response finds no challenge.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, jsonify, render_template, request, session
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from reference_server import webauthn
from reference_server.auth import (
    complete_login,
    config,
    email_user,
    login_required,
    now,
    ratelimits,
    reauth_needed,
    record_event,
    require_reauth,
)
from reference_server.checks import performs
from reference_server.db import db
from reference_server.models import User, WebAuthn, WebAuthnUserHandle
from reference_server.ratelimits import locked_out_message
from reference_server.validation import safe_next
from reference_server.views.accounts import remember_device
from reference_server.views.manage import (
    VERIFY_EMAIL_FIRST,
    email_verified,
    no_store,
    second_factor_prerequisites,
    to_two_factor_page,
    user,
)
from reference_server.views.two_factor import INVALID_LOGIN, pending_login, second_factor_checks

bp = Blueprint("webauthn", __name__)

PROVISION_STATE = "webauthn_provision_state"
AUTH_STATE = "webauthn_auth_state"
MAX_LABEL = 64
INVALID_CREDENTIAL = "Invalid WebAuthn credential"
MALFORMED_CREDENTIAL = "Malformed WebAuthn credential"
SET_UP = "Security device successfully set up"
REAUTH_FIRST = "Confirm your password again before changing security devices"
RECOVERY_CODES_FIRST = "Generate recovery codes and use one before adding a security device"
NO_PENDING_SETUP = "No security device set-up is pending: start again"


def fail(errors: list[str], status: int = 200) -> Response:
    """Warehouse's refusal JSON, with HTTP ``status``."""
    response = jsonify({"fail": {"errors": errors}})
    response.status_code = status
    return no_store(response)


def relying_party() -> webauthn.RelyingParty:
    """The configured RP ID and origin, or the request's host name and scheme://host[:port]."""
    rp_id = config().rp_id or urlsplit(request.host_url).hostname or "localhost"
    origin = config().origin or f"{request.scheme}://{request.host}"
    return webauthn.RelyingParty(id=rp_id, origin=origin)


def user_handle(account: User) -> bytes:
    """The user's stable random WebAuthn user handle, created on first use (not committed)."""
    row = db().get(WebAuthnUserHandle, account.id)
    if row is None:
        row = WebAuthnUserHandle(user_id=account.id, handle=os.urandom(32))
        db().add(row)
    return row.handle


def signed_user_handle(handle: bytes) -> bytes:
    """The user handle a key stores and returns: the options' ``user.id`` read as the page reads
    it (the handle itself, or with Warehouse's page the characters of its base64url form)."""
    return webauthn.signed_bytes(webauthn.b64url(handle), config().webauthn_encoding)


def provisioning_refusal(account: User) -> str | None:
    """Why ``account`` may not add a key through the JSON endpoints now, or None.

    The same rules as the page (and TOTP): recent authentication, verified email, and under
    the current profile recovery codes with one burned.
    """
    if reauth_needed(config().reauth_max_age):
        return REAUTH_FIRST
    if not email_verified(account):
        return VERIFY_EMAIL_FIRST
    if (
        config().profile == "current"
        and performs("recovery-codes-first")
        and not account.has_burned_recovery_codes
    ):
        return RECOVERY_CODES_FIRST
    return None


def label_errors(account: User, label: str) -> list[str]:
    """Warehouse's label rules: required, at most 64 characters, unique for the user."""
    if not label:
        return ["Specify a label"]
    if len(label) > MAX_LABEL:
        return [f"Label must be {MAX_LABEL} characters or less"]
    if any(key.label == label for key in account.webauthn):
        return [f"Label '{label}' already in use"]
    return []


@bp.route("/manage/account/webauthn-provision")
@login_required
@require_reauth("reauth_max_age")
def provision_page() -> Response | str:
    """The page whose script asks the browser for a new credential."""
    refused = second_factor_prerequisites(user())
    if refused is not None:
        return refused
    return render_template("webauthn_provision.html", user=user())


@bp.route("/manage/account/webauthn-provision/options")
@login_required
def provision_options() -> Response:
    """Creation options with a new challenge (kept in the session); excludes the user's keys."""
    account = user()
    refusal = provisioning_refusal(account)
    if refusal is not None:
        return fail([refusal], 403)
    state = webauthn.new_state(config().webauthn_encoding)
    options = webauthn.creation_options(
        relying_party(),
        state,
        user_handle=user_handle(account),
        username=account.username,
        display_name=account.name or account.username,
        existing=[key.credential_id for key in account.webauthn],
    )
    db().commit()
    session[PROVISION_STATE] = {**state, "user_id": account.id}
    return no_store(jsonify(options))


@bp.route("/manage/account/webauthn-provision/validate", methods=["POST"])
@login_required
def provision_validate() -> Response:
    """Verify the attestation in ``credential`` and store the key under ``label``."""
    # Single use: gone whatever happens next.
    state = session.pop(PROVISION_STATE, None)
    account = user()
    refusal = provisioning_refusal(account)
    if refusal is not None:
        return fail([refusal], 403)
    label = request.form.get("label", "").strip()
    errors = label_errors(account, label)
    if errors:
        return fail(errors)
    if not isinstance(state, dict) or state.get("user_id") != account.id:
        return fail([NO_PENDING_SETUP])
    try:
        registration = webauthn.verify_registration(
            relying_party(), fido2_state(state), request.form.get("credential", "")
        )
    except webauthn.MalformedCredential as exc:
        return fail([f"{MALFORMED_CREDENTIAL}: {exc}"], 400)
    except webauthn.InvalidCredential:
        return fail([INVALID_CREDENTIAL])
    taken = db().scalar(
        select(WebAuthn.id).where(WebAuthn.credential_id == registration.credential_id)
    )
    if taken is not None:
        return fail(["Credential ID already in use"])
    db().add(
        WebAuthn(
            user_id=account.id,
            label=label,
            credential_id=registration.credential_id,
            attested_data=registration.attested_data,
            sign_count=registration.sign_count,
            added=now(),
        )
    )
    record_event(account, "account:two_factor:method_added", {"method": "webauthn", "label": label})
    try:
        db().commit()
    except IntegrityError:
        # A concurrent request took the credential id or the label between check and insert.
        db().rollback()
        return fail(["Credential ID already in use"])
    email_user(
        account,
        "Two-factor method added",
        "two_factor_added.txt",
        method=f"a security device (WebAuthn) labelled '{label}'",
    )
    flash(SET_UP, "success")
    return no_store(jsonify({"success": SET_UP}))


@bp.route("/manage/account/webauthn-provision/delete", methods=["POST"])
@login_required
@require_reauth("reauth_max_age")
def provision_delete() -> Response:
    """Remove the key ``label`` once ``confirm_device_name`` repeats it; not the last method."""
    account = user()
    label = request.form.get("label", "")
    key = next((k for k in account.webauthn if k.label == label), None)
    if key is None:
        return to_two_factor_page("No security device with that label")
    key_id = request.form.get("id")
    if key_id is not None and key_id != str(key.id):
        return to_two_factor_page("No security device with that label")
    if request.form.get("confirm_device_name", "") != label:
        return to_two_factor_page("Device name does not match: the security device was kept")
    other_keys = len(account.webauthn) > 1
    if (
        config().profile == "current"
        and performs("last-2fa-method")
        and not (other_keys or account.has_totp)
    ):
        return to_two_factor_page("Cannot remove last 2FA method")
    db().delete(key)
    record_event(
        account, "account:two_factor:method_removed", {"method": "webauthn", "label": label}
    )
    db().commit()
    email_user(
        account,
        "Two-factor method removed",
        "two_factor_removed.txt",
        method=f"a security device (WebAuthn) labelled '{label}'",
    )
    flash("Security device removed", "success")
    return to_two_factor_page()


def fido2_state(state: dict[str, Any]) -> dict[str, str]:
    """The part of a stored state that ``Fido2Server`` reads."""
    return {"challenge": str(state["challenge"]), "user_verification": webauthn.USER_VERIFICATION}


@bp.route("/account/webauthn-authenticate/options")
def authenticate_options() -> Response:
    """Request options for the pending login's user: only that user's keys are allowed."""
    pending = pending_login()
    if pending is None or not pending[0].has_webauthn:
        return fail([INVALID_LOGIN])
    account, _payload = pending
    state = webauthn.new_state(config().webauthn_encoding)
    options = webauthn.request_options(
        relying_party(), state, [key.credential_id for key in account.webauthn]
    )
    session[AUTH_STATE] = {**state, "user_id": account.id}
    return no_store(jsonify(options))


def assertion_error(account: User, state: object) -> str | None:
    """Check the posted assertion for ``account``; None when it logs them in.

    Beyond fido2: the credential must be one of ``account``'s keys, the ``userHandle`` (when
    sent) must be the user's, and the counter must increase (one conditional update, so two
    requests with one assertion cannot both pass).
    :raises webauthn.MalformedCredential: the credential does not parse.
    """
    assertion = webauthn.parse_assertion(request.form.get("credential", ""))
    if not isinstance(state, dict) or state.get("user_id") != account.id:
        return "no pending challenge"
    key = next((k for k in account.webauthn if k.credential_id == assertion.credential_id), None)
    if key is None:
        return "credential of another user or unknown"
    try:
        count = webauthn.verify_assertion(
            relying_party(), fido2_state(state), assertion, key.attested_data
        )
    except webauthn.InvalidCredential as exc:
        return str(exc)
    handle = db().get(WebAuthnUserHandle, account.id)
    if (
        performs("webauthn-user-handle")
        and assertion.user_handle is not None
        and (handle is None or signed_user_handle(handle.handle) != assertion.user_handle)
    ):
        return "user handle of another user"
    if not performs("webauthn-counter"):
        condition = WebAuthn.id == key.id
    elif not webauthn.counter_accepted(key.sign_count, count):
        return "signature counter did not increase"
    else:
        condition = WebAuthn.sign_count == 0 if count == 0 else WebAuthn.sign_count < count
    stored = db().execute(
        update(WebAuthn).where(WebAuthn.id == key.id, condition).values(sign_count=count)
    )
    db().commit()
    return None if stored.rowcount == 1 else "signature counter did not increase"


@bp.route("/account/webauthn-authenticate/validate", methods=["POST"])
def authenticate_validate() -> Response:
    """Log the pending user in with a key; failures count like wrong TOTP codes."""
    state = (
        session.pop(AUTH_STATE, None)
        if performs("webauthn-challenge-single-use")
        else session.get(AUTH_STATE)
    )
    pending = pending_login()
    if pending is None or not pending[0].has_webauthn:
        return fail([INVALID_LOGIN])
    account, payload = pending
    checks = second_factor_checks(account)
    with ratelimits().attempt(*checks) as attempt:
        if attempt.retry_after is not None:
            response = fail([locked_out_message(attempt.retry_after)], 429)
            response.headers["Retry-After"] = str(attempt.retry_after)
            return response
        try:
            error = assertion_error(account, state)
            status = 200
        except webauthn.MalformedCredential as exc:
            error, status = f"malformed: {exc}", 400
        if error is not None:
            attempt.count()
    if error is not None:
        record_event(account, "account:login:failure", {"reason": "invalid_webauthn"})
        db().commit()
        return fail([INVALID_CREDENTIAL], status)
    complete_login(account)
    redirect_to = safe_next(payload.get("redirect_to")) or "/"
    response = no_store(
        jsonify({"success": "Successful WebAuthn assertion", "redirect_to": redirect_to})
    )
    if request.form.get("remember_device") in ("true", "on", "1"):
        remember_device(response, account)
    return response
