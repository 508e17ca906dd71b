"""The security checks the reference server performs, by name, and the switch that turns one off.

Every check here guards one place in the server's code with :func:`performs`. In a normal
run all of them are on. The harness's detection self-test (``harness selftest``) starts the
server with one turned off (``--test-mode --disable-check NAME``) and expects the scenarios
that check the named requirements to fail: a check nobody would miss is a check untested.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from reference_server.config import Profile, ServerConfig


@dataclass(frozen=True)
class Check:
    """One security check of the server.

    :param name: the name ``--disable-check`` takes.
    :param summary: what the server refuses or does, in one line.
    :param requirements: the harness catalogue's requirement ids that the check implements;
        their scenarios must fail against a server without it.
    :param profile: the policy under which the check alone stands between a user and harm
        (under the other, another rule may refuse the same request first).
    """

    name: str
    summary: str
    requirements: tuple[str, ...]
    profile: Profile = "current"


CHECKS = (
    Check(
        "csrf",
        "POST forms need the session's CSRF token",
        ("CSRF-01", "CSRF-02", "CSRF-04", "PROJECT-CSRF-01"),
    ),
    Check("csrf-token-renewal", "a login issues a new CSRF token", ("CSRF-03",)),
    Check(
        "session-rotation",
        "a login issues a new session id",
        ("SESSION-FIXATION-01", "SESSION-ROTATE-01"),
    ),
    Check(
        "logout-ends-session",
        "logging out deletes the session on the server",
        ("SESSION-LOGOUT-01",),
    ),
    Check("session-cookie-httponly", "the session cookie is HttpOnly", ("SESSION-COOKIE-01",)),
    Check(
        "frame-options",
        "pages forbid framing (X-Frame-Options, frame-ancestors)",
        ("HEADERS-FRAME-01", "TOTP-SETUP-07"),
    ),
    Check("redirect-target", "`next` must be a path on this site", ("LOGIN-NEXT-02",)),
    Check(
        "registration-honeypot",
        "a filled confirm_form honeypot is refused",
        ("ACCOUNT-REGISTER-02",),
    ),
    Check(
        "login-rate-limit",
        "failed passwords are counted and limited, per user and per address",
        ("RATE-LOGIN-01", "RATE-LOGIN-02"),
    ),
    Check(
        "second-factor-at-login",
        "an account with 2FA is logged in only after its second factor",
        ("TWOFA-PARTIAL-01",),
    ),
    Check(
        "two-factor-link-single-use",
        "a pending-login token dies once any login of the account completes",
        ("TWOFA-TOKEN-01",),
    ),
    Check(
        "two-factor-link-expiry",
        "a pending-login token expires after its age",
        ("TWOFA-TOKEN-03",),
    ),
    Check(
        "remember-device-owner",
        "a remember-device cookie skips the second factor only for its own user",
        ("REMEMBER-DEVICE-01",),
    ),
    Check(
        "token-signature",
        "emailed and pending-login tokens must carry a valid signature",
        ("ACCOUNT-VERIFY-02", "RESET-05", "TWOFA-TOKEN-02"),
    ),
    Check(
        "email-verification-owner",
        "an email-verification link works only for the address's own account",
        ("ACCOUNT-VERIFY-04",),
    ),
    Check(
        "totp-replay",
        "a TOTP step once accepted is refused after",
        ("TOTP-REPLAY-01", "TOTP-REPLAY-02", "TOTP-REPLAY-03"),
    ),
    Check(
        "totp-window",
        "TOTP codes are accepted one step either side, no more",
        ("TOTP-DRIFT-02", "TOTP-STEP-01"),
    ),
    Check("totp-code-format", "a TOTP code is six ASCII digits", ("TOTP-FORMAT-01",)),
    Check(
        "totp-rate-limit",
        "failed TOTP codes are counted and limited, per user and per address",
        ("RATE-2FA-01", "RATE-2FA-02", "RATE-2FA-04"),
    ),
    Check(
        "totp-provisioning-code",
        "TOTP is enabled only with a code of the secret being provisioned",
        ("TOTP-SETUP-05", "TOTP-SETUP-06"),
    ),
    Check(
        "totp-provisioning-once",
        "active TOTP is not replaced by provisioning again",
        ("TOTP-SETUP-08",),
    ),
    Check(
        "totp-removal-password",
        "removing TOTP needs the account's password",
        ("TWOFA-REMOVE-01",),
        profile="2019-beta",
    ),
    Check("verified-email-for-2fa", "2FA needs a verified primary email", ("TWOFA-EMAIL-01",)),
    Check(
        "recovery-codes-first",
        "under the current policy, recovery codes come before the first 2FA method",
        ("TWOFA-RECOVERY-FIRST-01",),
    ),
    Check(
        "last-2fa-method",
        "under the current policy, the last 2FA method cannot be removed",
        ("TWOFA-LAST-METHOD-01", "TWOFA-LAST-METHOD-02", "TWOFA-NOTIFY-02"),
    ),
    Check(
        "recovery-code-single-use", "a used recovery code is refused", ("RECOVERY-SINGLE-USE-01",)
    ),
    Check(
        "recovery-code-atomic-use",
        "a recovery code is burned by one conditional update, so two requests at once cannot"
        " both use it",
        ("RECOVERY-CONCURRENT-01",),
    ),
    Check(
        "recovery-code-owner",
        "only the account's own recovery codes are accepted",
        ("RECOVERY-LOGIN-02",),
    ),
    Check(
        "recovery-codes-regeneration",
        "regenerating recovery codes voids every old one",
        ("RECOVERY-REGENERATE-01",),
    ),
    Check(
        "recovery-codes-shown-once", "recovery codes are shown once", ("RECOVERY-SHOWN-ONCE-01",)
    ),
    Check(
        "recovery-code-rate-limit",
        "failed recovery codes count toward the second-factor limit",
        ("RATE-2FA-02",),
    ),
    Check(
        "reauthentication",
        "sensitive pages need a recent login or password",
        ("REAUTH-01", "REAUTH-06", "PROJECT-REAUTH-01"),
    ),
    Check(
        "reauthentication-user",
        "re-authentication checks the logged-in user's password, not a posted username's",
        ("REAUTH-03",),
    ),
    Check(
        "reset-link-password-date",
        "a reset link dies once the password changes",
        ("RESET-02", "RESET-04"),
    ),
    Check("reset-link-last-login", "a reset link dies once the account logs in", ("RESET-04",)),
    Check("reset-link-expiry", "a reset link expires", ("RESET-03",)),
    Check(
        "reset-same-answer",
        "a reset request for an unknown account gets the same answer as for a known one",
        ("RESET-ENUMERATION-01",),
    ),
    Check("password-reset-rate-limit", "reset emails per account are limited", ("RESET-LIMIT-01",)),
    Check(
        "project-delete-confirmation",
        "deleting a project needs its name typed again",
        ("PROJECT-CONFIRM-01",),
    ),
    Check(
        "release-delete-confirmation",
        "deleting a release needs its version typed again",
        ("PROJECT-CONFIRM-02",),
    ),
    Check(
        "owner-notification",
        "deleting a project or a release mails its owners",
        ("PROJECT-NOTIFY-01",),
    ),
    Check(
        "project-role",
        "a project is managed only by its owners",
        ("PROJECT-OWNER-01", "PROJECT-MAINTAINER-01"),
    ),
    Check(
        "collaborator-removal-confirmation",
        "removing a collaborator needs their username typed again",
        ("PROJECT-CONFIRM-03",),
    ),
    Check(
        "last-owner",
        "a project's last owner cannot be removed or demoted",
        ("PROJECT-LAST-OWNER-01",),
    ),
    Check(
        "upload-role",
        "uploads to an existing project need a role on it",
        ("PROJECT-ROLE-01",),
    ),
    Check(
        "collaborator-notification",
        "owners and the user concerned are mailed each change of collaborators",
        ("PROJECT-NOTIFY-02",),
    ),
    Check(
        "invitation-owner",
        "a role invitation link works only for the invited user",
        ("PROJECT-ROLE-02",),
    ),
    Check(
        "token-project-scope",
        "a project-scoped token uploads to its project only",
        ("UPLOAD-TOKEN-02",),
    ),
    Check(
        "token-removal",
        "a removed API token stops working",
        ("UPLOAD-TOKEN-03",),
    ),
    Check(
        "password-uploads-refused",
        "under the current policy, uploads need an API token",
        ("UPLOAD-PASSWORD-01",),
    ),
    Check(
        "management-needs-2fa",
        "under the current policy, token and project pages need 2FA",
        ("MANAGE-2FA-01",),
    ),
    Check(
        "webauthn-origin",
        "a WebAuthn response must come from the index's origin",
        ("WEBAUTHN-REG-ORIGIN-01", "WEBAUTHN-ASSERT-ORIGIN-01"),
    ),
    Check(
        "webauthn-algorithm",
        "a key's algorithm must be one the index offered",
        ("WEBAUTHN-REG-ALG-01",),
    ),
    Check(
        "webauthn-attestation-statement",
        "an attestation statement must be of a known format and verify",
        ("WEBAUTHN-REG-ATTSTMT-01", "WEBAUTHN-REG-FMT-01", "WEBAUTHN-REG-TRUST-01"),
    ),
    Check(
        "webauthn-credential-id-length",
        "credential ids over 1023 bytes are refused",
        ("WEBAUTHN-REG-CREDID-02",),
    ),
    Check(
        "webauthn-extension-outputs",
        "extension outputs must be JSON objects",
        ("WEBAUTHN-REG-EXTENSIONS-01", "WEBAUTHN-ASSERT-EXTENSIONS-01"),
    ),
    Check(
        "webauthn-token-binding",
        "client data claiming Token Binding is refused",
        ("WEBAUTHN-REG-TOKENBINDING-01", "WEBAUTHN-ASSERT-TOKENBINDING-01"),
    ),
    Check(
        "webauthn-counter", "the signature counter must increase", ("WEBAUTHN-ASSERT-COUNTER-01",)
    ),
    Check(
        "webauthn-user-handle",
        "an assertion's userHandle must be the pending user's",
        ("WEBAUTHN-ASSERT-USERHANDLE-01",),
    ),
    Check(
        "webauthn-challenge-single-use",
        "a login challenge is spent by a failed attempt too",
        ("WEBAUTHN-CHALLENGE-02",),
    ),
)
NAMES = frozenset(check.name for check in CHECKS)


class UnknownCheck(ValueError):
    """A check name the server does not have."""


def validate(names: list[str]) -> frozenset[str]:
    """``names`` as a set; :class:`UnknownCheck` naming the first one that is not a check."""
    for name in names:
        if name not in NAMES:
            raise UnknownCheck(f"unknown check {name!r}; --list-checks names them")
    return frozenset(names)


def performed_by(config: ServerConfig, name: str) -> bool:
    """Whether a server with ``config`` performs check ``name``: always, unless test mode
    turned it off. A name not in :data:`CHECKS` is a programming error (KeyError).
    """
    if name not in NAMES:
        raise KeyError(name)
    return name not in config.disabled_checks


def performs(name: str) -> bool:
    """Whether the running server performs check ``name`` (see :func:`performed_by`)."""
    return performed_by(current_app.extensions["reference_server.config"], name)
