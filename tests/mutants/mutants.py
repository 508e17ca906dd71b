"""Deliberately broken copies of the reference server, each breaking one security check.

A :class:`Mutant` is one textual change to one file of ``reference_server`` and the scenarios
that must fail against it. The honest twin of each is the unchanged server, against which the
same scenarios pass in the main suite.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import reference_server

SERVER_SOURCE = Path(reference_server.__file__).resolve().parent


@dataclass(frozen=True)
class Mutant:
    """One security check removed from the reference server.

    :param name: what is broken, as a test id.
    :param file: the file to change, relative to the ``reference_server`` package.
    :param original: text that occurs exactly once in that file.
    :param broken: what replaces it.
    :param catches: scenario node ids (relative to the project) that must fail.
    :param pytest_args: more pytest options for the run, e.g. a target profile under which
        the broken check is the only thing between the user and the change.
    """

    name: str
    file: str
    original: str
    broken: str
    catches: tuple[str, ...]
    pytest_args: tuple[str, ...] = ()

    def build(self, folder: Path) -> Path:
        """Copy the server into ``folder/reference_server`` with the change made; ``folder``.

        :raises ValueError: the original text is not in the file exactly once (the server
            changed; update the mutant).
        """
        copy = folder / "reference_server"
        shutil.copytree(SERVER_SOURCE, copy, ignore=shutil.ignore_patterns("__pycache__"))
        path = copy / self.file
        text = path.read_text(encoding="utf-8")
        if text.count(self.original) != 1:
            raise ValueError(
                f"mutant {self.name}: the text to break occurs {text.count(self.original)}"
                f" times in {self.file}, not once"
            )
        path.write_text(text.replace(self.original, self.broken), encoding="utf-8")
        return folder


TOTP_LOGIN = "scenarios/totp/test_totp_login.py"
TOTP_SETUP = "scenarios/totp/test_totp_setup.py"
RATE_LIMITS = "scenarios/totp/test_rate_limits.py"
SESSIONS = "scenarios/accounts/test_login_and_sessions.py"
REGISTRATION = "scenarios/accounts/test_registration.py"
RECOVERY_CODES = "scenarios/recovery_codes/test_recovery_codes.py"
REAUTHENTICATION = "scenarios/reauthentication/test_reauthentication.py"
PASSWORD_RESET = "scenarios/password_reset/test_password_reset.py"
WEBAUTHN = "scenarios/webauthn/test_webauthn_protocol.py"

MUTANTS = (
    Mutant(
        name="totp-replay-accepted",
        file="views/two_factor.py",
        original=".where(or_(User.last_totp_step.is_(None), User.last_totp_step < step))",
        broken="",
        catches=(
            f"{TOTP_LOGIN}::TestTotpReplay::test_accepted_code_is_refused_at_the_next_login",
            f"{TOTP_LOGIN}::TestTotpReplay::test_older_step_is_refused_once_a_newer_one_was_accepted",
            f"{TOTP_LOGIN}::TestTotpReplay::test_spaced_variant_of_an_accepted_code_is_refused",
        ),
    ),
    Mutant(
        name="csrf-not-checked",
        file="csrf.py",
        original='    if request.method != "POST":\n        return\n',
        broken="    return\n",
        catches=(
            f"{SESSIONS}::TestCsrf::test_login_without_csrf_token_is_refused",
            f"{SESSIONS}::TestCsrf::test_csrf_token_of_another_session_is_refused",
            f"{SESSIONS}::TestCsrf::test_logout_without_csrf_token_keeps_the_session",
        ),
    ),
    Mutant(
        name="session-not-rotated-at-login",
        file="auth.py",
        original="    session.rotate()\n",
        broken="",
        catches=(
            f"{SESSIONS}::TestSession::test_session_id_changes_at_login",
            f"{SESSIONS}::TestSession::test_session_id_from_before_login_grants_nothing_after_it",
        ),
    ),
    Mutant(
        name="totp-drift-window-too-wide",
        file="otp.py",
        original="WINDOW = (0, -1, 1)\n",
        broken="WINDOW = (0, -1, 1, -2, 2)\n",
        catches=(f"{TOTP_LOGIN}::TestTotpCodes::test_code_two_steps_old_is_refused",),
    ),
    Mutant(
        # The server then answers 500 (hmac.compare_digest refuses non-ASCII text) instead
        # of a form error: the scenario catches that, not a login.
        name="totp-format-accepts-non-ascii-digits",
        file="otp.py",
        original='_SIX_DIGITS = re.compile(r"[0-9]{6}", re.ASCII)',
        broken='_SIX_DIGITS = re.compile(r"\\d{6}")',
        catches=(
            f"{TOTP_LOGIN}::TestTotpCodes"
            "::test_malformed_code_is_refused_with_a_form_error[full-width-digits]",
        ),
    ),
    Mutant(
        name="password-step-logs-in-before-second-factor",
        file="views/accounts.py",
        original='    token = tokens().dumps("two-factor"',
        broken='    complete_login(user)\n    token = tokens().dumps("two-factor"',
        catches=tuple(
            f"{TOTP_LOGIN}::TestPendingLogin::test_password_step_alone_grants_no_protected_page"
            f"[{path}]"
            for path in (
                "/manage/projects/",
                "/manage/account/",
                "/manage/account/two-factor/",
                "/manage/account/totp-provision",
                "/manage/account/recovery-codes/generate",
            )
        ),
    ),
    Mutant(
        name="two-factor-link-not-voided-by-login",
        file="views/two_factor.py",
        original=(
            '    if user.last_login is not None and user.last_login > payload["issued"]:\n'
            "        return None\n"
        ),
        broken="",
        catches=(
            f"{TOTP_LOGIN}::TestPendingLogin::test_two_factor_link_is_void_after_use",
            f"{TOTP_LOGIN}::TestPendingLogin::test_two_factor_link_of_an_earlier_login_is_void",
        ),
    ),
    Mutant(
        name="logout-keeps-the-server-session",
        file="sessions.py",
        original=(
            "            if session.sid:\n"
            "                with factory() as dbs, dbs.begin():\n"
            "                    dbs.execute("
            "delete(WebSession).where(WebSession.id == session.sid))\n"
        ),
        broken="",
        catches=(f"{SESSIONS}::TestSession::test_logout_ends_the_session_on_the_server",),
    ),
    Mutant(
        # Clearing the session drops the old token too, so both lines must go.
        name="csrf-token-not-renewed-at-login",
        file="auth.py",
        original="    session.clear()\n    new_csrf_token()\n",
        broken="",
        catches=(f"{SESSIONS}::TestCsrf::test_csrf_token_from_before_login_is_void_after_it",),
    ),
    Mutant(
        name="open-redirect-after-login",
        file="validation.py",
        original=(
            '    if not value or not value.startswith("/") or value.startswith("//"):\n'
            "        return None\n"
        ),
        broken="    return value\n",
        catches=tuple(
            f"{SESSIONS}::TestLogin::test_next_to_another_site_is_ignored[{evil}]"
            for evil in ("https://evil.example/", "//evil.example/", "/\\\\evil.example/")
        ),
    ),
    Mutant(
        name="used-recovery-code-accepted",
        file="views/two_factor.py",
        original="return recovery_codes.USED if used else",
        broken="return None if used else",
        catches=(f"{RECOVERY_CODES}::TestRecoveryLogin::test_used_recovery_code_is_refused",),
    ),
    Mutant(
        name="regenerating-keeps-old-recovery-codes",
        file="views/manage.py",
        original=(
            "    db().execute(delete(RecoveryCode).where(RecoveryCode.user_id == account.id))\n"
        ),
        broken="",
        catches=(f"{RECOVERY_CODES}::TestRegenerate::test_regenerating_voids_every_old_code",),
    ),
    Mutant(
        name="recovery-code-of-another-user-accepted",
        file="views/two_factor.py",
        original="    for stored in list(user.recovery_codes):\n",
        broken="    for stored in db().query(RecoveryCode).all():\n",
        catches=(f"{RECOVERY_CODES}::TestRecoveryLogin::test_another_users_code_is_refused",),
    ),
    Mutant(
        name="totp-failures-not-counted",
        file="views/two_factor.py",
        original=("        if not accepted:\n            ratelimits().hit(*checks)\n"),
        broken="",
        catches=(
            f"{RATE_LIMITS}::TestTwoFactorRateLimit"
            "::test_right_code_is_refused_once_the_limit_is_hit_across_sessions",
            f"{RATE_LIMITS}::TestTwoFactorRateLimit::test_recovery_codes_share_the_second_factor_limit",
        ),
    ),
    Mutant(
        name="login-failures-not-counted",
        file="views/accounts.py",
        original=(
            "        ok = passwords().verify(user.password if user else None, password)\n"
            "        if not ok:\n"
            "            ratelimits().hit(*checks)\n"
        ),
        broken="        ok = passwords().verify(user.password if user else None, password)\n",
        catches=(
            f"{RATE_LIMITS}::TestLoginRateLimit::test_right_password_is_refused_once_the_limit_is_hit",
        ),
    ),
    Mutant(
        name="reauthentication-never-needed",
        file="auth.py",
        original=(
            "    return not isinstance(auth_time, int | float) or now() - auth_time > max_age\n"
        ),
        broken="    return False\n",
        catches=(
            f"{REAUTHENTICATION}::TestReauthenticate::test_stale_login_is_asked_for_the_password",
        ),
    ),
    Mutant(
        name="reauthentication-trusts-the-username-field",
        file="views/accounts.py",
        original=(
            "    user = current_user()\n"
            "    if user is None:\n        return login_redirect()\n    next_route"
        ),
        broken=(
            '    user = find_user(request.form.get("username", ""))\n'
            "    if user is None:\n        return login_redirect()\n    next_route"
        ),
        catches=(
            f"{REAUTHENTICATION}::TestReauthenticate"
            "::test_another_users_password_and_username_are_refused",
            f"{REAUTHENTICATION}::TestReauthenticate::test_hidden_username_is_not_what_decides_the_user",
        ),
    ),
    Mutant(
        name="two-factor-allowed-with-unverified-email",
        file="views/manage.py",
        original="    return primary is not None and primary.verified\n",
        broken="    return primary is not None\n",
        catches=(f"{TOTP_SETUP}::TestPrerequisites::test_unverified_email_cannot_start_totp",),
    ),
    Mutant(
        name="last-two-factor-method-removable",
        file="views/manage.py",
        original=(
            '    if config().profile == "current" and not others:\n'
            '        return to_two_factor_page("Cannot remove last 2FA method")\n'
        ),
        broken="",
        catches=(
            f"{TOTP_SETUP}::TestRemove::test_last_method_is_kept_or_removed_as_the_policy_says",
        ),
    ),
    Mutant(
        name="reset-link-survives-a-password-change",
        file="views/accounts.py",
        original=(
            '    if payload.get("password_date") != user.password_date:\n'
            '        return "Invalid token: password has already been changed since this token was'
            ' requested"\n'
        ),
        broken="",
        catches=(
            f"{PASSWORD_RESET}::TestResetLink::test_used_link_is_refused",
            f"{PASSWORD_RESET}::TestResetLink::test_link_dies_when_the_password_changes_another_way",
        ),
    ),
    Mutant(
        name="reset-link-survives-a-login",
        file="views/accounts.py",
        original=(
            '    if payload.get("last_login") != user.last_login:\n'
            '        return "Invalid token: user has logged in since this token was requested"\n'
        ),
        broken="",
        catches=(
            f"{PASSWORD_RESET}::TestResetLink::test_link_dies_when_the_account_logs_in_after_asking",
        ),
    ),
    Mutant(
        name="reset-link-never-expires",
        file="views/accounts.py",
        original='tokens().loads("password", token, config().password_reset_max_age)',
        broken='tokens().loads("password", token, None)',
        catches=(f"{PASSWORD_RESET}::TestResetLink::test_expired_link_is_refused",),
    ),
    Mutant(
        name="reset-request-reveals-unknown-accounts",
        file="views/accounts.py",
        original='    return render_template(\n        "password_reset_sent.html",\n',
        broken=(
            "    if user is None:\n"
            "        return render_template(\n"
            '            "request_password_reset.html",\n'
            "            value=value,\n"
            '            errors={"username_or_email": '
            '["No user found with that username or email"]},\n'
            "        )\n"
            '    return render_template(\n        "password_reset_sent.html",\n'
        ),
        catches=(
            f"{PASSWORD_RESET}::TestResetRequest"
            "::test_unknown_accounts_get_the_same_answer_as_known_ones",
        ),
    ),
    Mutant(
        name="reset-logs-in",
        file="views/accounts.py",
        original='    record_event(user, "account:password:reset")\n    db().commit()\n',
        broken='    record_event(user, "account:password:reset")\n    complete_login(user)\n',
        catches=(f"{PASSWORD_RESET}::TestResetLink::test_reset_does_not_log_in",),
    ),
    Mutant(
        name="reset-disables-two-factor",
        file="views/accounts.py",
        original='    record_event(user, "account:password:reset")\n',
        broken='    user.totp_secret = None\n    record_event(user, "account:password:reset")\n',
        catches=(
            f"{PASSWORD_RESET}::TestResetLink"
            "::test_reset_account_is_still_asked_for_its_second_factor",
        ),
    ),
    Mutant(
        # Every token purpose at once: email verification, password reset, two-factor login.
        name="token-signature-not-checked",
        file="tokens.py",
        original="                return int(clock())\n",
        broken=(
            "                return int(clock())\n\n"
            "            def verify_signature(self, value, sig):\n"
            "                return True\n"
        ),
        catches=(
            f"{REGISTRATION}::TestVerifyEmail::test_tampered_link_verifies_nothing",
            f"{PASSWORD_RESET}::TestResetLink::test_tampered_link_is_refused",
            f"{TOTP_LOGIN}::TestPendingLogin::test_tampered_two_factor_link_is_refused",
        ),
    ),
    Mutant(
        name="registration-honeypot-ignored",
        file="views/accounts.py",
        original=(
            '    if request.form.get("confirm_form"):\n'
            '        abort(400, description="Bad request")\n'
        ),
        broken="",
        catches=(f"{REGISTRATION}::TestRegister::test_filled_honeypot_is_refused",),
    ),
    Mutant(
        name="totp-provisioning-accepts-any-code",
        file="views/manage.py",
        original="    if step is None:\n",
        broken="    if False:\n",
        catches=(
            f"{TOTP_SETUP}::TestProvision::test_wrong_code_does_not_enable_totp",
            f"{TOTP_SETUP}::TestProvision::test_code_of_an_earlier_secret_does_not_confirm_a_new_one",
        ),
    ),
    Mutant(
        name="recovery-code-failures-not-counted",
        file="views/two_factor.py",
        original="        if error is not None:\n            ratelimits().hit(*checks)\n",
        broken="",
        catches=(
            f"{RATE_LIMITS}::TestTwoFactorRateLimit"
            "::test_failed_recovery_codes_count_toward_the_second_factor_limit",
        ),
    ),
    Mutant(
        name="totp-removed-without-the-password",
        file="views/manage.py",
        original=(
            'ok = passwords().verify(account.password, request.form.get("confirm_password", ""))'
        ),
        broken="ok = True",
        catches=(f"{TOTP_SETUP}::TestRemove::test_removal_with_a_wrong_password_is_refused",),
        # Under the current policy the last-method rule refuses the removal anyway.
        pytest_args=("--target-profile=reference-2019",),
    ),
    Mutant(
        name="email-verified-from-another-account",
        file="views/accounts.py",
        original="    if address is None or address.user_id != user.id:\n",
        broken="    if address is None:\n",
        catches=(
            f"{REGISTRATION}::TestVerifyEmail::test_link_opened_by_another_account_verifies_nothing",
        ),
    ),
    Mutant(
        name="csrf-not-checked-when-removing-totp",
        file="csrf.py",
        original='    if request.method != "POST":\n        return\n',
        broken="    return\n",
        catches=(f"{TOTP_SETUP}::TestRemove::test_removal_without_csrf_token_is_refused",),
        # Under the current policy the last-method rule refuses the removal anyway.
        pytest_args=("--target-profile=reference-2019",),
    ),
    Mutant(
        name="session-cookie-readable-by-scripts",
        file="sessions.py",
        original="            httponly=True,\n",
        broken="            httponly=False,\n",
        catches=(f"{SESSIONS}::TestSession::test_session_cookie_is_httponly_and_samesite",),
    ),
    Mutant(
        name="pages-can-be-framed",
        file="app.py",
        original=(
            '        response.headers["X-Frame-Options"] = "DENY"\n'
            '        response.headers["Content-Security-Policy"] = "frame-ancestors \'none\'"\n'
        ),
        broken="",
        catches=(
            f"{TOTP_SETUP}::TestProvision::test_provisioning_pages_cannot_be_framed_or_cached",
        ),
    ),
    Mutant(
        name="active-totp-replaced-by-provisioning",
        file="views/manage.py",
        original="    if account.has_totp:\n        return to_two_factor_page()\n",
        broken="",
        catches=(
            f"{TOTP_SETUP}::TestProvision::test_active_totp_is_not_replaced_by_provisioning_again",
        ),
    ),
    Mutant(
        name="totp-without-recovery-codes-first",
        file="views/manage.py",
        original='    if config().profile == "current":\n        if not account.has_recovery_codes',
        broken="    if False:\n        if not account.has_recovery_codes",
        catches=(
            f"{TOTP_SETUP}::TestPrerequisites"
            "::test_totp_needs_recovery_codes_first_when_the_policy_says_so",
        ),
    ),
    Mutant(
        name="recovery-codes-shown-again",
        file="views/manage.py",
        original="    if account.has_recovery_codes:\n        return no_store(",
        broken="    if False:\n        return no_store(",
        catches=(f"{RECOVERY_CODES}::TestGenerate::test_codes_are_not_shown_again",),
    ),
    Mutant(
        name="password-reset-requests-not-limited",
        file="views/accounts.py",
        original="            allowed = limiter.exceeded(str(user.id)) is None\n",
        broken="            allowed = True\n",
        catches=(
            f"{PASSWORD_RESET}::TestResetRequest"
            "::test_requests_beyond_the_limit_send_no_mail_and_look_the_same",
        ),
    ),
    Mutant(
        name="webauthn-counter-not-checked",
        file="views/webauthn.py",
        original=(
            "    if not webauthn.counter_accepted(key.sign_count, count):\n"
            '        return "signature counter did not increase"\n'
            "    condition = WebAuthn.sign_count == 0 if count == 0"
            " else WebAuthn.sign_count < count\n"
        ),
        broken="    condition = WebAuthn.id == key.id\n",
        catches=tuple(
            f"{WEBAUTHN}::TestKeyLogin"
            f"::test_assertion_is_refused_for_each_fault_and_accepted_from_the_honest_twin[{case}]"
            for case in (
                "soft-counter-backwards",
                "ctap-counter-backwards",
                "soft-counter-frozen",
                "ctap-counter-frozen",
            )
        ),
    ),
    Mutant(
        name="webauthn-user-handle-not-checked",
        file="views/webauthn.py",
        original="    if assertion.user_handle is not None and (\n",
        broken="    if False and (\n",
        catches=tuple(
            f"{WEBAUTHN}::TestAssertionDetails"
            f"::test_user_handle_of_another_user_is_refused[{kind}-other-user]"
            for kind in ("soft", "ctap")
        ),
    ),
    Mutant(
        name="webauthn-overlong-credential-id-accepted",
        file="webauthn.py",
        original="    if len(credential.credential_id) > MAX_CREDENTIAL_ID_BYTES:\n",
        broken="    if False:\n",
        catches=(
            f"{WEBAUTHN}::TestCredentialIds::test_credential_id_longer_than_1023_bytes_is_refused"
            "[1024]",
        ),
    ),
    Mutant(
        name="webauthn-attestation-statement-not-verified",
        file="webauthn.py",
        original="    verify_statement(attestation, client_data.hash)\n",
        broken="",
        catches=tuple(
            f"{WEBAUTHN}::{test}"
            for test in (
                "TestResponseStructure::test_packed_self_attestation_must_verify[bad-signature]",
                "TestResponseStructure::test_broken_registration_is_refused_with_a_client_error"
                "[soft-unknown-format]",
                "TestResponseStructure::test_broken_registration_is_refused_with_a_client_error"
                "[soft-none-with-a-statement]",
            )
        ),
    ),
    Mutant(
        name="webauthn-extension-outputs-not-checked",
        file="webauthn.py",
        original="    _check_extension_outputs(data)\n",
        broken="",
        catches=tuple(
            f"{WEBAUTHN}::TestResponseStructure::{test}[soft-extensions-not-an-object]"
            for test in (
                "test_broken_registration_is_refused_with_a_client_error",
                "test_broken_assertion_is_refused_with_a_client_error",
            )
        ),
    ),
    Mutant(
        name="webauthn-token-binding-not-checked",
        file="webauthn.py",
        original="    verify_token_binding(assertion.client_data)\n",
        broken="",
        catches=(
            f"{WEBAUTHN}::TestKeyLogin"
            "::test_assertion_is_refused_for_each_fault_and_accepted_from_the_honest_twin"
            "[soft-token-binding-present]",
        ),
    ),
    Mutant(
        name="webauthn-challenge-kept-after-a-failure",
        file="views/webauthn.py",
        original="    state = session.pop(AUTH_STATE, None)\n",
        broken="    state = session.get(AUTH_STATE)\n",
        catches=tuple(
            f"{WEBAUTHN}::TestKeyLogin::test_challenge_is_spent_by_a_failed_attempt[{kind}]"
            for kind in ("soft", "ctap")
        ),
    ),
)
