"""Setting up and removing a TOTP app (RFC 6238, ASVS 2.8), at protocol level."""

import re
from dataclasses import replace
from urllib.parse import urlsplit

import pytest

from harness.accounts import TestAccount
from harness.client import HtmlPage, IndexClient
from harness.crawl import crawl
from harness.mail import Mailbox
from harness.targets import Profile
from virtual_authenticators.totp import TotpApp

pytestmark = [pytest.mark.protocol, pytest.mark.needs("totp")]

PROVISION = "/manage/account/totp-provision"
MANAGEMENT = ["/manage/account/", "/manage/account/two-factor/"]


def provision(client: IndexClient, account: TestAccount) -> tuple[object, TotpApp]:
    page, uri = client.provision_totp_secret(account.password)
    app = TotpApp.from_uri(uri)
    app.wait_for_fresh_step()
    return page, app


def has_totp(client: IndexClient, account: TestAccount) -> bool:
    page = client.open_sensitive("/manage/account/two-factor/", account.password)
    return page.has("#totp-enabled")


def skewed(app: TotpApp, steps: int) -> TotpApp:
    """The same app on a device whose clock is ``steps`` time steps ahead (behind if negative)."""
    return replace(app, clock=lambda: app.clock() + steps * app.interval)


def holds(secret: str, *texts: str) -> bool:
    """One of ``texts`` holds ``secret``, however spaced or cased (as codes to type often are)."""
    return any(secret.upper() in re.sub(r"\s+", "", text).upper() for text in texts)


def shows(page: HtmlPage, secret: str) -> bool:
    """``page`` holds ``secret`` in its HTML or in its text."""
    return holds(secret, page.response.text, page.soup.get_text(""))


class TestProvision:
    @pytest.mark.requirement("TOTP-SETUP-01", "TOTP-SECRET-01")
    def test_qr_uri_and_manual_secret_name_the_same_sha1_secret(
        self, ready_for_two_factor, client
    ) -> None:
        page, uri = client.provision_totp_secret(ready_for_two_factor.password)
        assert uri.startswith("otpauth://totp/")
        manual = page.one(".totp-form__manual-code code").get_text(strip=True).replace(" ", "")
        assert len(manual) == 32
        assert TotpApp.from_uri(uri).secret == manual
        assert "algorithm=SHA1" in uri.upper() or "algorithm" not in uri.lower()

    @pytest.mark.requirement("TOTP-SETUP-02")
    def test_each_visit_offers_a_new_secret(self, ready_for_two_factor, client) -> None:
        _, first = client.provision_totp_secret(ready_for_two_factor.password)
        _, second = client.provision_totp_secret(ready_for_two_factor.password)
        assert TotpApp.from_uri(first).secret != TotpApp.from_uri(second).secret

    @pytest.mark.requirement("TOTP-SETUP-03")
    def test_qr_image_is_svg(self, ready_for_two_factor, client) -> None:
        client.provision_totp_secret(ready_for_two_factor.password)
        image = client.get(PROVISION + "/image")
        assert image.status == 200
        assert image.response.headers["Content-Type"].startswith("image/svg+xml")

    @pytest.mark.requirement("TOTP-SETUP-04", "TWOFA-NOTIFY-01")
    def test_code_from_the_app_enables_totp_and_is_mailed(
        self, ready_for_two_factor, client, mailbox: Mailbox
    ) -> None:
        page, app = provision(client, ready_for_two_factor)
        done = client.submit_page(page, "form.totp-form__form", totp_value=app.current())
        assert (done.status, done.location) == (303, "/manage/account/")
        assert has_totp(client, ready_for_two_factor)
        mailbox.wait_for(ready_for_two_factor.email, "Two-factor method added")

    @pytest.mark.requirement("TOTP-SETUP-05")
    def test_wrong_code_does_not_enable_totp(
        self, ready_for_two_factor, client, make_client
    ) -> None:
        page, app = provision(client, ready_for_two_factor)
        refused = client.submit_page(page, "form.totp-form__form", totp_value=app.wrong_code())
        assert refused.status == 200
        assert refused.errors("totp")
        assert not has_totp(client, ready_for_two_factor)
        page = make_client().login(ready_for_two_factor.username, ready_for_two_factor.password)
        assert page.location == "/manage/projects/"

    @pytest.mark.requirement("TOTP-SETUP-06")
    def test_code_of_an_earlier_secret_does_not_confirm_a_new_one(
        self, ready_for_two_factor, client
    ) -> None:
        _, old_app = provision(client, ready_for_two_factor)
        page, _ = provision(client, ready_for_two_factor)
        refused = client.submit_page(page, "form.totp-form__form", totp_value=old_app.current())
        assert refused.status == 200
        assert not has_totp(client, ready_for_two_factor)

    @pytest.mark.requirement("TOTP-SETUP-09")
    @pytest.mark.parametrize(
        "steps", [-10, -2, 2, 10], ids=["10-behind", "2-behind", "2-ahead", "10-ahead"]
    )
    def test_code_two_to_ten_steps_away_is_refused_as_out_of_sync(
        self, ready_for_two_factor, client, steps: int
    ) -> None:
        page, app = provision(client, ready_for_two_factor)
        code = skewed(app, steps).current()
        refused = client.submit_page(page, "form.totp-form__form", totp_value=code)
        assert refused.status == 200
        assert "out of sync" in " ".join(refused.errors("totp")).lower()
        assert not has_totp(client, ready_for_two_factor)

    @pytest.mark.requirement("TOTP-SETUP-09")
    @pytest.mark.parametrize("steps", [-1, 1], ids=["1-behind", "1-ahead"])
    def test_code_one_step_away_is_accepted(self, ready_for_two_factor, client, steps: int) -> None:
        page, app = provision(client, ready_for_two_factor)
        code = skewed(app, steps).current()
        done = client.submit_page(page, "form.totp-form__form", totp_value=code)
        assert (done.status, done.location) == (303, "/manage/account/")

    @pytest.mark.requirement("TOTP-SECRET-02")
    def test_secret_is_in_no_later_page_or_mail(
        self, ready_for_two_factor, client, mailbox: Mailbox
    ) -> None:
        account = ready_for_two_factor
        page, app = provision(client, account)
        assert shows(page, app.secret)  # the check finds the secret where it must be
        done = client.submit_page(page, "form.totp-form__form", totp_value=app.current())
        assert done.status == 303
        mailbox.wait_for(account.email, "Two-factor method added")
        later = crawl(client, [*MANAGEMENT, PROVISION, f"{PROVISION}/image"], depth=2).pages
        client.logout()
        two_factor_url = client.password_step(account.username, account.password)
        later.update(crawl(client, [two_factor_url], depth=1).pages)
        leaks = [urlsplit(seen.url).path for seen in later.values() if shows(seen, app.secret)]
        assert leaks == []
        mails = mailbox.to(account.email)
        assert [mail.subject for mail in mails if holds(app.secret, mail.text)] == []

    @pytest.mark.requirement("TOTP-SETUP-07")
    def test_provisioning_pages_cannot_be_framed_or_cached(
        self, ready_for_two_factor, client
    ) -> None:
        page, _ = client.provision_totp_secret(ready_for_two_factor.password)
        headers = page.response.headers
        assert headers.get(
            "X-Frame-Options", ""
        ).upper() == "DENY" or "frame-ancestors" in headers.get("Content-Security-Policy", "")
        assert "no-store" in headers.get("Cache-Control", "")

    @pytest.mark.requirement("TOTP-SETUP-08")
    def test_active_totp_is_not_replaced_by_provisioning_again(self, make_account, client) -> None:
        account = make_account(totp=True)
        client.log_in_with_totp(account.username, account.password, account.totp.current())
        page = client.open_sensitive(PROVISION, account.password)
        assert page.status == 303
        assert not page.has(".totp-form__qr img")


class TestPrerequisites:
    @pytest.mark.requirement("TWOFA-EMAIL-01")
    def test_unverified_email_cannot_start_totp(self, make_account, client) -> None:
        account = make_account(verified=False)
        client.login(account.username, account.password)
        page = client.open_sensitive(PROVISION, account.password)
        assert page.status == 303
        assert not page.has(".totp-form__qr img")
        assert client.follow(page).has("#verify-email-first")

    @pytest.mark.requirement("TWOFA-EMAIL-01")
    def test_unverified_email_cannot_post_a_totp_code(self, make_account, client) -> None:
        account = make_account(verified=False)
        client.login(account.username, account.password)
        token = client.csrf_token("/manage/account/", "form#logout-form")
        page = client.post(PROVISION, {"csrf_token": token, "totp_value": "123456"})
        assert page.status in (303, 400, 403)
        assert not has_totp(client, account)

    @pytest.mark.requirement("TWOFA-RECOVERY-FIRST-01")
    def test_totp_needs_recovery_codes_first_when_the_policy_says_so(
        self, make_account, client, target_profile: Profile
    ) -> None:
        if not target_profile.recovery_codes_before_first_method:
            pytest.skip(f"profile {target_profile.name}: recovery codes are not needed first")
        account = make_account()
        client.login(account.username, account.password)
        page = client.open_sensitive(PROVISION, account.password)
        assert page.status == 303
        assert page.location.startswith("/manage/account/recovery-codes/")


class TestRemove:
    @pytest.fixture
    def logged_in(self, make_account, client) -> TestAccount:
        account = make_account(totp=True)
        client.log_in_with_totp(account.username, account.password, account.totp.current())
        return account

    def remove(self, client: IndexClient, account: TestAccount, password: str):
        page = client.open_sensitive("/manage/account/two-factor/", account.password)
        return client.submit_page(page, "form#remove-totp-form", confirm_password=password)

    @pytest.mark.requirement("TWOFA-LAST-METHOD-01", "TWOFA-LAST-METHOD-02", "TWOFA-NOTIFY-02")
    def test_last_method_is_kept_or_removed_as_the_policy_says(
        self, logged_in, client, target_profile: Profile, mailbox: Mailbox
    ) -> None:
        page = self.remove(client, logged_in, logged_in.password)
        assert page.status == 303
        assert has_totp(client, logged_in) is not target_profile.last_method_removable
        if target_profile.last_method_removable:
            mailbox.wait_for(logged_in.email, "Two-factor method removed")

    @pytest.mark.requirement("TWOFA-REMOVE-01")
    def test_removal_with_a_wrong_password_is_refused(self, logged_in, client) -> None:
        page = self.remove(client, logged_in, logged_in.password + "x")
        assert page.status in (200, 303)
        assert has_totp(client, logged_in)

    @pytest.mark.requirement("CSRF-05")
    def test_removal_without_csrf_token_is_refused(self, logged_in, client) -> None:
        page = client.post(PROVISION, {"confirm_password": logged_in.password})
        assert page.status == 400
        assert has_totp(client, logged_in)


@pytest.mark.requirement("HARNESS-ACCOUNTS-01")
def test_factory_accounts_follow_the_profile(make_account, target_profile: Profile) -> None:
    """The account factory itself meets each profile's prerequisites (a harness self-check)."""
    account = make_account(totp=True)
    assert account.totp is not None
    assert bool(account.used_recovery_codes) is target_profile.recovery_codes_before_first_method
