"""Playwright page objects, one per page of the index's contract (see docs/pages.md)."""

from harness.pages.api_tokens import ApiTokensPage
from harness.pages.base import IndexPage
from harness.pages.login import LoginPage
from harness.pages.manage_account import ManageAccountPage, TwoFactorManagePage
from harness.pages.password_reset import RequestPasswordResetPage, ResetPasswordPage
from harness.pages.projects import (
    CollaborationPage,
    ProjectSettingsPage,
    ProjectsPage,
    ReleasePage,
    ReleasesPage,
)
from harness.pages.reauthenticate import ReauthenticateForm
from harness.pages.recovery_codes import (
    RecoveryCodeBurnPage,
    RecoveryCodeLoginPage,
    RecoveryCodesPage,
)
from harness.pages.register import RegisterPage
from harness.pages.totp_provision import TotpProvisionPage
from harness.pages.two_factor import TwoFactorPage
from harness.pages.webauthn_provision import WebAuthnError, WebAuthnProvisionPage

__all__ = [
    "ApiTokensPage",
    "CollaborationPage",
    "IndexPage",
    "LoginPage",
    "ManageAccountPage",
    "ProjectSettingsPage",
    "ProjectsPage",
    "ReauthenticateForm",
    "RecoveryCodeBurnPage",
    "RecoveryCodeLoginPage",
    "RecoveryCodesPage",
    "RegisterPage",
    "ReleasePage",
    "ReleasesPage",
    "RequestPasswordResetPage",
    "ResetPasswordPage",
    "TotpProvisionPage",
    "TwoFactorManagePage",
    "TwoFactorPage",
    "WebAuthnError",
    "WebAuthnProvisionPage",
]
