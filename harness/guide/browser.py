"""The browser driver of a guided session: a :class:`~harness.guide.journeys.StepDriver` that
performs each step of the catalogue in a real Playwright page, with the harness's page objects.

Harness steps fill forms and navigate. A person's step is called once the person said they
acted: the driver then looks at the page for what should have happened (after "type the code
your phone shows", that the app is set up). In a scripted session the stand-ins
(:class:`~harness.guide.standins.StandIns`) act for the person first, inside the same call.

Every step ends with a screenshot, taken with whatever would give a secret away masked (the QR
code and the seed under it, recovery codes, typed codes and passwords: screenshots are not
scrubbed after the fact), and with the automatic checks: what should have happened did
(``expected``), and axe-core's WCAG 2.1 A/AA rules on the page, once per page of a journey.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page

from harness.accessibility import axe_violations
from harness.client import IndexClient
from harness.errors import HarnessError, TargetError
from harness.guide.account import GuideAccount
from harness.guide.collaborator import NEEDED, Collaborator
from harness.guide.journeys import (
    KEY_LABEL,
    RECOVERY_CODES_FIRST,
    AccountChange,
    ChangeKind,
    CheckResult,
    Outcome,
    Step,
    StepContext,
    StepResult,
)
from harness.guide.releases import new_project_name, upload_releases
from harness.guide.standins import STAND_IN_KEY, StandIns
from harness.pages import (
    CollaborationPage,
    IndexPage,
    LoginPage,
    ProjectSettingsPage,
    ProjectsPage,
    ReauthenticateForm,
    RecoveryCodeBurnPage,
    RecoveryCodeLoginPage,
    RecoveryCodesPage,
    ReleasePage,
    ReleasesPage,
    TotpProvisionPage,
    TwoFactorManagePage,
    TwoFactorPage,
    WebAuthnProvisionPage,
)
from harness.pages.css import css_string
from harness.pages.webauthn_provision import WebAuthnError, wait_for_outcome
from harness.staging import RECOVERY_CODES

MASKED = (
    ".totp-form__qr",
    ".totp-form__manual-code",
    ".recovery-codes",
    "#totp_value",
    "#recovery_code_value",
    "input[type=password]",
    "#provisioned-token",
)
"""What a screenshot never shows: the QR code and the seed typed by hand, recovery codes, the
code and password boxes, a new API token (CSS selectors of the contract's pages)."""

EXPECTED = "expected"
"""The check that what should have happened did."""

AXE = "axe-core WCAG 2.1 A/AA"
"""The check of the page against axe-core's rules, passed when it breaks none."""

REUSED_CODE = "recovery-code-single-use"
NEW_CODES_DIFFER = "recovery-codes-regenerated"

PERSON_KEY_TIMEOUT_MS = 5_000
"""How long the page is given to finish a key's request after the person said they touched it."""

NET_ERROR = "net::ERR_"

KEPT_VERSION, DELETED_VERSION = "1.0", "1.1"
"""The releases of delete-release's test project: the one deleted, and the one that stays."""

SPARED_BY_SAVED_CODES = tuple(step.id for step in RECOVERY_CODES_FIRST[1:])
"""The steps an account with recovery codes, one of them used, does not need."""

PageObject = TypeVar("PageObject", bound=IndexPage)


@dataclass(frozen=True)
class Seen:
    """What a step's handler found: whether the step's ``expected`` happened, said in one
    line, with the step's other checks and account changes.

    :param after_screenshot: done once the screenshot is taken (pressing "Use security
        device" for a person, whose browser then asks for their key).
    :param unneeded: the later steps of the journey found not needed (see
        :attr:`~harness.guide.journeys.StepResult.unneeded`).
    """

    passed: bool
    actual: str
    checks: tuple[CheckResult, ...] = ()
    set_up: tuple[AccountChange, ...] = ()
    removed: tuple[AccountChange, ...] = ()
    after_screenshot: Callable[[], None] | None = field(default=None, compare=False)
    unneeded: tuple[str, ...] = ()


Handler = Callable[[Step, StepContext], Seen]


class BrowserDriver:
    """Performs the catalogue's steps in ``page``, logged in (or to be) as ``account``.

    :param page: a page whose context has the target's ``base_url``.
    :param stand_ins: the software stand-ins acting for the person (scripted session), or
        None when a person acts.
    :param accessibility: run axe-core on each page (off only in the driver's own tests).
    :param collaborator: the second account remove-collaborator adds and removes, or None
        when there is none (that journey's steps then say what to set).
    """

    def __init__(
        self,
        page: Page,
        account: GuideAccount,
        stand_ins: StandIns | None = None,
        *,
        accessibility: bool = True,
        collaborator: Collaborator | None = None,
    ) -> None:
        self.page = page
        self.account = account
        self.stand_ins = stand_ins
        self.accessibility = accessibility
        self.collaborator = collaborator
        self._scanned: set[tuple[str, str]] = set()
        self._codes: list[str] = []
        self._projects: dict[str, str] = {}
        self._made: list[AccountChange] = []
        self._handlers: dict[tuple[str, str], Handler] = {
            ("totp-setup", "ask-for-app-setup"): self._ask_for_app_setup,
            ("totp-setup", "save-recovery-codes"): self._save_codes,
            ("totp-setup", "open-code-check"): self._open_code_check,
            ("totp-setup", "type-saved-code"): self._use_saved_code,
            ("totp-setup", "open-app-setup"): self._open_app_setup,
            ("totp-setup", "read-setup-page"): self._on_provisioning_page,
            ("totp-setup", "scan-qr-code"): self._scan_qr_code,
            ("totp-setup", "type-app-code"): self._confirm_app,
            ("totp-setup", "check-app-listed"): self._app_listed,
            ("totp-login", "read-code-page"): self._code_box_named,
            ("totp-login", "type-app-code"): self._log_in_with_app,
            ("key-setup", "open-key-setup"): self._open_key_setup,
            ("key-setup", "touch-key"): self._key_set_up,
            ("key-setup", "check-key-listed"): self._key_listed,
            ("key-login", "touch-key"): self._log_in_with_key,
            ("recovery-codes", "show-codes"): self._show_codes,
            ("recovery-codes", "save-codes"): self._save_codes,
            ("recovery-codes", "choose-recovery-code"): self._choose_recovery_code,
            ("recovery-codes", "type-recovery-code"): self._log_in_with_recovery_code,
            ("recovery-codes", "new-codes"): self._new_codes,
            ("recovery-codes", "compare-codes"): self._save_codes,
            ("remove-method", "choose-remove"): self._choose_key_removal,
            ("remove-method", "read-confirmation"): self._key_removal_named,
            ("remove-method", "confirm-remove"): self._remove_key,
            ("remove-collaborator", "add-collaborator"): self._add_collaborator,
            ("remove-collaborator", "choose-remove"): self._choose_collaborator_removal,
            ("remove-collaborator", "read-confirmation"): self._collaborator_removal_named,
            ("remove-collaborator", "confirm-remove"): self._remove_collaborator,
            ("delete-release", "upload-releases"): self._upload_releases,
            ("delete-release", "choose-delete"): self._choose_release_deletion,
            ("delete-release", "read-warning"): self._release_deletion_named,
            ("delete-release", "confirm-delete"): self._delete_release,
            ("delete-project", "make-project"): self._make_project,
            ("delete-project", "choose-delete"): self._choose_project_deletion,
            ("delete-project", "read-warning"): self._project_deletion_named,
            ("delete-project", "confirm-delete"): self._delete_project,
        }

    def perform(self, step: Step, context: StepContext) -> StepResult:
        started = time.monotonic()
        handler = self._handler(context.journey.id, step.id)
        self._made = []
        if step.action is not None and self.stand_ins is None:
            # The person acted in the browser: show them the page the guide looks at.
            self.page.bring_to_front()
        try:
            seen = handler(step, context)
        except PlaywrightError as error:
            reason = _first_line(str(error))
            if NET_ERROR in reason:
                raise TargetError(f"the target stopped answering: {reason}") from None
            seen = Seen(False, f"The page did not behave as the guide expected: {reason}")
        except (HarnessError, LookupError) as error:
            if isinstance(error, TargetError):
                raise
            seen = Seen(False, _first_line(str(error)))
        screenshot = self._screenshot(context)
        checks = (CheckResult(EXPECTED, seen.passed, seen.actual), *seen.checks)
        checks += self._accessibility(context)
        if seen.after_screenshot is not None:
            seen.after_screenshot()
        if self.stand_ins is not None:
            self.stand_ins.keep_key()
        return StepResult(
            Outcome.WORKED if seen.passed else Outcome.DID_NOT,
            seen.actual,
            time.monotonic() - started,
            screenshot,
            checks,
            # What the step made before it failed is there all the same, to be undone.
            (*self._made, *seen.set_up),
            seen.removed,
            seen.unneeded,
        )

    # The steps, in the catalogue's order.

    def _ask_for_app_setup(self, step: Step, context: StepContext) -> Seen:
        manage = self._open_two_factor_settings()
        if not manage.can_add_totp():
            # No first second factor to add, so no codes first; open-app-setup says the rest.
            actual = "The settings offer no authenticator app to add, so no codes are asked for."
            return Seen(True, actual, unneeded=SPARED_BY_SAVED_CODES)
        with self.page.expect_navigation():
            self.page.click("a#add-totp")
        ReauthenticateForm(self.page).confirm_if_asked(self.account.password)
        where = manage.current_path
        if where == TotpProvisionPage.path:
            actual = (
                "The index went on to the app's set-up: your account has recovery codes, one"
                " of them used."
            )
            return Seen(True, actual, unneeded=SPARED_BY_SAVED_CODES)
        if where not in (RecoveryCodesPage.path, RecoveryCodeBurnPage.path):
            return Seen(False, f"The browser is on {where}, not the app's set-up or its codes.")
        recovery = RecoveryCodesPage(self.page)
        codes = recovery.shown_codes()
        actual = f"The index asked for recovery codes first: the page shows {len(codes)}."
        if not codes:
            # The account has codes, none used (a stopped session made them, say): the index
            # shows a set only once, and the guide cannot know the person still has it.
            codes = recovery.generate(self.account.password, regenerate=True)
            actual = (
                "Your account had recovery codes, none used: the guide asked for a new set,"
                f" since the old one is never shown again. The page shows {len(codes)}."
            )
        self._codes = list(codes)
        change = AccountChange(ChangeKind.RECOVERY_CODES, journey_id=context.journey.id)
        if not codes:
            return Seen(False, "The page shows no recovery codes.", set_up=(change,))
        return Seen(True, actual, set_up=(change,))

    def _open_code_check(self, step: Step, context: StepContext) -> Seen:
        burn, codes = RecoveryCodeBurnPage(self.page), RecoveryCodesPage(self.page)
        if burn.current_path != burn.path and codes.offers_to_continue():
            codes.continue_to_burn()
        if burn.current_path != burn.path:
            return Seen(False, f"The browser is on {burn.current_path}, not the code's check.")
        labelled = self._code_box_labelled("recovery_code_value")
        return Seen(True, "A page asks for one of the recovery codes.", (labelled,))

    def _use_saved_code(self, step: Step, context: StepContext) -> Seen:
        burn = RecoveryCodeBurnPage(self.page)
        if self.stand_ins is not None:
            burn.submit_code(self.stand_ins.unused_code())
        self.page.wait_for_load_state()
        if burn.current_path == burn.path:
            refused = "; ".join(burn.code_errors()) or "no code was accepted"
            return Seen(False, f"The page still asks for a code: {refused}.")
        said = "; ".join(burn.flashes("success")) or "nothing"
        settings = burn.current_path == TwoFactorManagePage.path
        return Seen(settings, f"The browser is on {burn.current_path}; the page says: {said}.")

    def _open_app_setup(self, step: Step, context: StepContext) -> Seen:
        manage = self._open_two_factor_settings()
        if not manage.can_add_totp():
            return Seen(False, "The settings offer no authenticator app to add: one is set up.")
        with self.page.expect_navigation():
            self.page.click("a#add-totp")
        return self._on_provisioning_page(step, context)

    def _on_provisioning_page(self, step: Step, context: StepContext) -> Seen:
        provisioning = TotpProvisionPage(self.page)
        if provisioning.current_path != provisioning.path:
            where = provisioning.current_path
            return Seen(False, f"The browser is on {where}, not the set-up page.")
        qr = self.page.locator(".totp-form__qr img").count()
        box = self.page.locator("form.totp-form__form #totp_value").count()
        if not (qr and box):
            return Seen(False, "The set-up page lacks the QR code or the code box.")
        labelled = self._code_box_labelled("totp_value")
        return Seen(True, "The set-up page shows a QR code and a box for the code.", (labelled,))

    def _scan_qr_code(self, step: Step, context: StepContext) -> Seen:
        provisioning = TotpProvisionPage(self.page)
        if self.stand_ins is not None:
            self.stand_ins.scan(provisioning)
        if provisioning.current_path != provisioning.path:
            return Seen(False, "The set-up page was left before the code was typed.")
        return Seen(True, "The set-up page is still waiting for the app's code.")

    def _confirm_app(self, step: Step, context: StepContext) -> Seen:
        provisioning = TotpProvisionPage(self.page)
        if self.stand_ins is not None:
            provisioning.confirm(self.stand_ins.totp_code(logs_in=False))
        self.page.wait_for_load_state()
        if provisioning.current_path == provisioning.path:
            errors = provisioning.totp_errors()
            return Seen(False, f"The code was refused: {'; '.join(errors) or 'no reason shown'}.")
        said = provisioning.flashes("success")
        change = AccountChange(ChangeKind.TOTP, journey_id=context.journey.id)
        return Seen(True, f"The page says: {'; '.join(said) or 'nothing'}.", set_up=(change,))

    def _app_listed(self, step: Step, context: StepContext) -> Seen:
        manage = self._open_two_factor_settings()
        if manage.can_add_totp():
            return Seen(False, "The settings still offer to add an authenticator app.")
        change = AccountChange(ChangeKind.TOTP, journey_id="totp-setup")
        return Seen(True, "The settings list an authenticator app.", set_up=(change,))

    def _log_in_with_password(self, step: Step, context: StepContext) -> Seen:
        index = IndexPage(self.page)
        if index.is_logged_in():
            index.log_out()
        LoginPage(self.page).password_step(self.account.username, self.account.password)
        path = index.current_path
        if not path.startswith(TwoFactorPage.path):
            return Seen(False, f"After the password the browser is on {path}, not the 2FA page.")
        after = None
        if context.journey.id == "key-login" and self.stand_ins is None:
            # The person's browser asks for their key only once the button is pressed.
            after = self._press_use_security_device
        return Seen(True, "A page asks for the second factor.", after_screenshot=after)

    def _code_box_named(self, step: Step, context: StepContext) -> Seen:
        two_factor = TwoFactorPage(self.page)
        if not two_factor.is_shown():
            return Seen(False, "The page has no box for the app's code.")
        labelled = self.page.locator("label[for=totp_value]").count() > 0
        return Seen(
            labelled,
            "The code box has a label." if labelled else "The code box has no label.",
        )

    def _log_in_with_app(self, step: Step, context: StepContext) -> Seen:
        two_factor = TwoFactorPage(self.page)
        if self.stand_ins is not None:
            two_factor.submit_totp(self.stand_ins.totp_code())
        return self._logged_in(two_factor.totp_errors)

    def _open_key_setup(self, step: Step, context: StepContext) -> Seen:
        change = AccountChange(ChangeKind.SECURITY_KEY, KEY_LABEL, context.journey.id)
        if KEY_LABEL in self._open_two_factor_settings().security_keys.evaluate_all(
            "items => items.map(item => item.dataset.label)"
        ):
            return Seen(True, f"'{KEY_LABEL}' was set up by an earlier try.", set_up=(change,))
        provision = WebAuthnProvisionPage(self.page)
        provision.open()
        ReauthenticateForm(self.page).confirm_if_asked(self.account.password)
        if provision.current_path != provision.path:
            return Seen(False, f"The browser was sent to {provision.current_path} instead.")
        if self.stand_ins is None:
            self.page.fill("#webauthn-provision-label", KEY_LABEL)
            return Seen(
                True,
                "The guide named the key and pressed the button.",
                after_screenshot=lambda: self.page.click("#webauthn-provision-begin"),
            )
        provision.enrol(KEY_LABEL, STAND_IN_KEY)
        if provision.errors.count():
            return Seen(False, f"The page says: {'; '.join(provision.errors.all_inner_texts())}")
        return Seen(True, "The browser's request was answered by the key.", set_up=(change,))

    def _key_set_up(self, step: Step, context: StepContext) -> Seen:
        provision = WebAuthnProvisionPage(self.page)
        if provision.current_path == provision.path:
            self._wait_for_key(provision)
        if provision.current_path == provision.path:
            said = "; ".join(provision.errors.all_inner_texts())
            return Seen(False, f"The page still asks for the key: {said or 'no message shown'}.")
        said = provision.flashes("success")
        change = AccountChange(ChangeKind.SECURITY_KEY, KEY_LABEL, context.journey.id)
        return Seen(True, f"The page says: {'; '.join(said) or 'nothing'}.", set_up=(change,))

    def _key_listed(self, step: Step, context: StepContext) -> Seen:
        labels = self._open_two_factor_settings().security_keys.evaluate_all(
            "items => items.map(item => item.dataset.label)"
        )
        listed = KEY_LABEL in labels
        return Seen(listed, f"The settings list {', '.join(map(repr, labels)) or 'no key'}.")

    def _log_in_with_key(self, step: Step, context: StepContext) -> Seen:
        two_factor = TwoFactorPage(self.page)
        if self.stand_ins is not None:
            two_factor.use_security_key(STAND_IN_KEY)
        elif two_factor.current_path == two_factor.path:
            self._wait_for_key(two_factor)
        return self._logged_in(two_factor.webauthn_errors.all_inner_texts)

    def _show_codes(self, step: Step, context: StepContext) -> Seen:
        self._open_two_factor_settings()
        regenerate = self.page.locator(f'a[href="{RECOVERY_CODES}regenerate"]').count() > 0
        codes = RecoveryCodesPage(self.page).generate(self.account.password, regenerate)
        self._codes = list(codes)
        change = AccountChange(ChangeKind.RECOVERY_CODES, journey_id=context.journey.id)
        if not codes:
            return Seen(False, "The page shows no recovery codes.")
        return Seen(True, f"The page shows {len(codes)} recovery codes.", set_up=(change,))

    def _save_codes(self, step: Step, context: StepContext) -> Seen:
        shown = self.page.locator(".recovery-codes li").count()
        if self.stand_ins is not None and self._codes:
            self.stand_ins.note_codes(self._codes)
        return Seen(bool(shown), f"{shown} codes were on the page to save.")

    def _choose_recovery_code(self, step: Step, context: StepContext) -> Seen:
        two_factor = TwoFactorPage(self.page)
        if two_factor.recovery_link.count() == 0:
            return Seen(False, "The 2FA page offers no recovery code.")
        two_factor.use_recovery_code()
        box = self.page.locator("input#recovery_code_value").count() > 0
        return Seen(box, "A page asks for a recovery code." if box else "No code box shown.")

    def _log_in_with_recovery_code(self, step: Step, context: StepContext) -> Seen:
        page = RecoveryCodeLoginPage(self.page)
        if self.stand_ins is not None:
            page.submit_code(self.stand_ins.unused_code())
        seen = self._logged_in(page.code_errors)
        if self.stand_ins is None or not seen.passed:
            return seen
        return Seen(seen.passed, seen.actual, (self._reused_code_refused(),))

    def _new_codes(self, step: Step, context: StepContext) -> Seen:
        old = set(self._codes)
        codes = RecoveryCodesPage(self.page).generate(self.account.password, regenerate=True)
        self._codes = list(codes)
        change = AccountChange(ChangeKind.RECOVERY_CODES, journey_id=context.journey.id)
        if not codes:
            return Seen(False, "The page shows no new recovery codes.")
        kept = len(old & set(codes))
        differ = CheckResult(
            NEW_CODES_DIFFER,
            kept == 0,
            f"{kept} of the new codes were in the old set" if kept else "all new codes are new",
            security=True,
        )
        return Seen(True, f"The page shows {len(codes)} new codes.", (differ,), (change,))

    def _choose_key_removal(self, step: Step, context: StepContext) -> Seen:
        self._open_two_factor_settings()
        form = self._key_removal_form()
        if form.count() == 0:
            return Seen(False, f"The settings list no '{KEY_LABEL}' to remove.")
        form.locator("input[name=confirm_device_name]").focus()
        return Seen(True, f"The removal of '{KEY_LABEL}' asks for the key's name.")

    def _key_removal_named(self, step: Step, context: StepContext) -> Seen:
        form = self._key_removal_form()
        named = form.count() > 0 and KEY_LABEL in form.locator("xpath=..").inner_text()
        said = "names" if named else "does not name"
        return Seen(named, f"The removal form {said} '{KEY_LABEL}'.")

    def _remove_key(self, step: Step, context: StepContext) -> Seen:
        form = self._key_removal_form()
        if form.count() == 0:
            return Seen(False, f"The settings list no '{KEY_LABEL}' to remove.")
        form.locator("input[name=confirm_device_name]").fill(KEY_LABEL)
        with self.page.expect_navigation():
            form.locator("button[type=submit]").click()
        ReauthenticateForm(self.page).confirm_if_asked(self.account.password)
        said = "; ".join(IndexPage(self.page).flashes()) or "nothing"
        if self._key_removal_form().count():
            return Seen(False, f"'{KEY_LABEL}' is still listed; the page says: {said}.")
        change = AccountChange(ChangeKind.SECURITY_KEY, KEY_LABEL, "key-setup")
        return Seen(True, f"'{KEY_LABEL}' is gone; the page says: {said}.", removed=(change,))

    def _add_collaborator(self, step: Step, context: StepContext) -> Seen:
        username = self._collaborator_username()
        project = self._new_project(context, (KEPT_VERSION,))
        collaboration = self._open_sensitive(CollaborationPage(self.page, project))
        collaboration.invite(username)
        ReauthenticateForm(self.page).confirm_if_asked(self.account.password)
        refused = collaboration.flashes("error")
        if refused:
            return Seen(False, f"The invitation of '{username}' was refused: {'; '.join(refused)}.")
        assert self.collaborator is not None, "_collaborator_username() checked it"
        self.collaborator.accept(project)
        change = AccountChange(ChangeKind.COLLABORATOR, username, context.journey.id, project)
        self._made.append(change)
        listed = self._open_sensitive(collaboration).usernames()
        both = {self.account.username, username} <= set(listed)
        return Seen(both, f"The collaborators page lists {_listed(listed, 'nobody')}.")

    def _choose_collaborator_removal(self, step: Step, context: StepContext) -> Seen:
        username = self._collaborator_username()
        collaboration = self._open_sensitive(CollaborationPage(self.page, self._project(context)))
        form = collaboration.removal_form(username)
        if form.count() == 0:
            return Seen(False, f"The collaborators page lists no '{username}' to remove.")
        form.locator("input[name=confirm_username]").focus()
        return Seen(True, f"The removal of '{username}' asks for their username.")

    def _collaborator_removal_named(self, step: Step, context: StepContext) -> Seen:
        username = self._collaborator_username()
        form = CollaborationPage(self.page, self._project(context)).removal_form(username)
        return self._box_names(form, username, f"the account '{username}'")

    def _remove_collaborator(self, step: Step, context: StepContext) -> Seen:
        username = self._collaborator_username()
        project = self._project(context)
        collaboration = CollaborationPage(self.page, project)
        if collaboration.removal_form(username).count() == 0:
            return Seen(False, f"The collaborators page lists no '{username}' to remove.")
        collaboration.remove(username, username)
        ReauthenticateForm(self.page).confirm_if_asked(self.account.password)
        said = "; ".join(collaboration.flashes("success"))
        if username in self._on(collaboration).usernames():
            errors = "; ".join(collaboration.flashes("error")) or "nothing"
            return Seen(False, f"'{username}' is still listed; the page says: {errors}.")
        change = AccountChange(ChangeKind.COLLABORATOR, username, context.journey.id, project)
        actual = f"'{username}' is no longer listed; the page says: {said or 'nothing'}."
        return Seen(bool(said), actual, removed=(change,))

    def _upload_releases(self, step: Step, context: StepContext) -> Seen:
        project = self._new_project(context, (KEPT_VERSION, DELETED_VERSION))
        versions = self._open_sensitive(ReleasesPage(self.page, project)).versions()
        both = {KEPT_VERSION, DELETED_VERSION} <= set(versions)
        return Seen(both, f"The releases page of {project} lists {_listed(versions, 'none')}.")

    def _choose_release_deletion(self, step: Step, context: StepContext) -> Seen:
        release = ReleasePage(self.page, self._project(context), DELETED_VERSION)
        box = self._open_sensitive(release).confirm_box
        if box.count() == 0:
            return Seen(False, f"The page of release {DELETED_VERSION} has no box asking for it.")
        box.focus()
        return Seen(True, f"The deletion of release {DELETED_VERSION} asks for its version.")

    def _release_deletion_named(self, step: Step, context: StepContext) -> Seen:
        release = ReleasePage(self.page, self._project(context), DELETED_VERSION)
        return self._box_names(release.delete_form, DELETED_VERSION, f"release {DELETED_VERSION}")

    def _delete_release(self, step: Step, context: StepContext) -> Seen:
        project = self._project(context)
        release = ReleasePage(self.page, project, DELETED_VERSION)
        if release.confirm_box.count() == 0:
            return Seen(False, f"The page of release {DELETED_VERSION} has no box to delete it.")
        release.delete(DELETED_VERSION)
        ReauthenticateForm(self.page).confirm_if_asked(self.account.password)
        said = "; ".join(release.flashes()) or "nothing"
        versions = self._on(ReleasesPage(self.page, project)).versions()
        went = DELETED_VERSION not in versions and KEPT_VERSION in versions
        actual = f"The releases page lists {_listed(versions, 'none')}; the page says: {said}."
        return Seen(went, actual)

    def _make_project(self, step: Step, context: StepContext) -> Seen:
        project = self._new_project(context, (KEPT_VERSION,))
        listed = self._open_sensitive(ProjectsPage(self.page)).lists(project)
        return Seen(listed, f"Your projects {'list' if listed else 'do not list'} '{project}'.")

    def _choose_project_deletion(self, step: Step, context: StepContext) -> Seen:
        settings = self._open_sensitive(ProjectSettingsPage(self.page, self._project(context)))
        box = settings.confirm_box
        if box.count() == 0:
            return Seen(False, "The project's settings have no box asking for its name.")
        box.focus()
        return Seen(True, "The deletion of the project asks for its name.")

    def _project_deletion_named(self, step: Step, context: StepContext) -> Seen:
        project = self._project(context)
        form = ProjectSettingsPage(self.page, project).delete_form
        return self._box_names(form, project, f"the project '{project}'")

    def _delete_project(self, step: Step, context: StepContext) -> Seen:
        project = self._project(context)
        settings = ProjectSettingsPage(self.page, project)
        if settings.confirm_box.count() == 0:
            return Seen(False, "The project's settings have no box to delete it.")
        settings.delete(project)
        ReauthenticateForm(self.page).confirm_if_asked(self.account.password)
        said = "; ".join(settings.flashes()) or "nothing"
        if self._on(ProjectsPage(self.page)).lists(project):
            return Seen(False, f"'{project}' is still in your projects; the page says: {said}.")
        change = AccountChange(ChangeKind.PROJECT, project, context.journey.id)
        actual = f"'{project}' is no longer in your projects; the page says: {said}."
        return Seen(True, actual, removed=(change,))

    # Helpers.

    def _handler(self, journey_id: str, step_id: str) -> Handler:
        if step_id == "log-in-with-password":
            return self._log_in_with_password
        try:
            return self._handlers[(journey_id, step_id)]
        except KeyError:
            raise HarnessError(f"the guide cannot perform {journey_id}/{step_id}") from None

    def _collaborator_username(self) -> str:
        if self.collaborator is None:
            raise LookupError(f"There is no second account: {NEEDED}.")
        return self.collaborator.username()

    def _new_project(self, context: StepContext, versions: tuple[str, ...]) -> str:
        """Upload ``versions`` of a new test project, the journey's; its name.

        :raises HarnessError: the upload did not go through.
        """
        project = new_project_name()
        problem = upload_releases(self.page, self.account.password, project, versions)
        # Even a failed upload may have made the project (a first wheel went up): the undo
        # looks, and finds it gone if it never was.
        self._made.append(AccountChange(ChangeKind.PROJECT, project, context.journey.id))
        if problem is not None:
            raise HarnessError(problem)
        self._projects[context.journey.id] = project
        return project

    def _project(self, context: StepContext) -> str:
        """The test project this journey made.

        :raises LookupError: it made none (its first step did not work).
        """
        try:
            return self._projects[context.journey.id]
        except KeyError:
            raise LookupError(
                "The guide made no test project in this journey: its first step did not work."
            ) from None

    def _open_sensitive(self, page: PageObject) -> PageObject:
        page.open()
        ReauthenticateForm(self.page).confirm_if_asked(self.account.password)
        return page

    def _on(self, page: PageObject) -> PageObject:
        """``page``, where a form just sent the browser, or opened if it went elsewhere."""
        return page if page.current_path == page.path else self._open_sensitive(page)

    def _box_names(self, form: Locator, name: str, what: str) -> Seen:
        """Whether the confirmation box ``form`` shows ``name``, which names ``what``."""
        named = form.count() > 0 and name in form.inner_text()
        return Seen(named, f"The box {'names' if named else 'does not name'} {what}.")

    def _open_two_factor_settings(self) -> TwoFactorManagePage:
        manage = TwoFactorManagePage(self.page)
        manage.open()
        ReauthenticateForm(self.page).confirm_if_asked(self.account.password)
        return manage

    def _code_box_labelled(self, box_id: str) -> CheckResult:
        labelled = self.page.locator(f"label[for={box_id}]").count() > 0
        return CheckResult("code-box-labelled", labelled, "the code box has a label")

    def _key_removal_form(self) -> Locator:
        label = css_string(KEY_LABEL)
        return self.page.locator(f"form.webauthn-delete-form:has(input[name=label][value={label}])")

    def _press_use_security_device(self) -> None:
        self.page.click("#webauthn-auth-begin")

    def _wait_for_key(self, index_page: IndexPage) -> None:
        with contextlib.suppress(WebAuthnError):  # the caller says what the page shows instead
            wait_for_outcome(index_page, "your security key", PERSON_KEY_TIMEOUT_MS)

    def _logged_in(self, errors: Callable[[], list[str]]) -> Seen:
        self.page.wait_for_load_state()
        index = IndexPage(self.page)
        if index.is_logged_in() and not index.current_path.startswith("/account/"):
            return Seen(True, f"Logged in; the browser shows {index.current_path}.")
        return Seen(False, f"Not logged in: {'; '.join(errors()) or 'no reason shown'}.")

    def _reused_code_refused(self) -> CheckResult:
        """Log in again over HTTP with the recovery code just used: the index must refuse it."""
        assert self.stand_ins is not None
        code = self.stand_ins.used_code()
        client = IndexClient(self.page.evaluate("() => location.origin"))
        try:
            two_factor = client.password_step(self.account.username, self.account.password)
            answer = client.recovery_code_login(two_factor, code or "")
        except HarnessError as error:
            return CheckResult(REUSED_CODE, False, f"could not be checked: {error}")
        accepted = answer.status == 303 and not answer.location.startswith("/account/")
        return CheckResult(
            REUSED_CODE,
            not accepted,
            "a used recovery code was accepted again" if accepted else "a used code was refused",
            security=True,
        )

    def _screenshot(self, context: StepContext) -> Path:
        path = context.folder / context.screenshot
        path.parent.mkdir(parents=True, exist_ok=True)
        masks = [self.page.locator(selector) for selector in MASKED]
        self.page.screenshot(path=str(path), full_page=True, mask=masks)
        return context.screenshot

    def _accessibility(self, context: StepContext) -> tuple[CheckResult, ...]:
        where = (context.journey.id, IndexPage(self.page).current_path)
        if not self.accessibility or where in self._scanned:
            return ()
        self._scanned.add(where)
        violations = axe_violations(self.page)
        if not violations:
            return (CheckResult(AXE, True, f"no violation on {where[1]}"),)
        return tuple(
            CheckResult(f"axe: {v.rule_id}", False, f"{v} on {where[1]}") for v in violations
        )


def _listed(items: list[str], none: str) -> str:
    return ", ".join(items) or none


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or ["no message"])[0]
