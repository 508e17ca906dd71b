"""Recovery codes: generate/regenerate, burn, and log in with one."""

from __future__ import annotations

from harness.pages.base import IndexPage
from harness.pages.reauthenticate import ReauthenticateForm
from harness.redaction import Secret

CONTINUE = "a#recovery-codes-continue"


class RecoveryCodesPage(IndexPage):
    """`/manage/account/recovery-codes/generate` and `…/regenerate`."""

    path = "/manage/account/recovery-codes/generate"

    def generate(self, password: str, regenerate: bool = False) -> list[str]:
        """Open the page (re-authenticating if asked) and read the eight codes it shows."""
        self.open(self.path.replace("generate", "regenerate") if regenerate else self.path)
        ReauthenticateForm(self.page).confirm_if_asked(password)
        return self.shown_codes()

    def shown_codes(self) -> list[str]:
        """The codes the page shows (none when it says the account has codes already), each
        a :class:`~harness.redaction.Secret`, so that reports mask them."""
        return [
            Secret(code.strip())
            for code in self.page.locator(".recovery-codes ul li code").all_inner_texts()
        ]

    def offers_to_continue(self) -> bool:
        """The page has the "Continue" link to the page that burns a code."""
        return self.page.locator(CONTINUE).count() > 0

    def continue_to_burn(self) -> None:
        with self.page.expect_navigation():
            self.page.click(CONTINUE)


class _RecoveryCodeForm(IndexPage):
    def submit_code(self, code: str) -> None:
        self.page.fill("input#recovery_code_value", code)
        with self.page.expect_navigation():
            self.page.click("form:has(#recovery_code_value) input[type=submit][value=Verify]")

    def code_errors(self) -> list[str]:
        return self.field_errors("recovery_code_value")


class RecoveryCodeBurnPage(_RecoveryCodeForm):
    """`/manage/account/recovery-codes/burn`: prove the codes were saved by using one."""

    path = "/manage/account/recovery-codes/burn"


class RecoveryCodeLoginPage(_RecoveryCodeForm):
    """`/account/recovery-code/?<token>`: the login's second step with a recovery code."""

    path = "/account/recovery-code/"
