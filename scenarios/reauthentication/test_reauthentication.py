"""Re-authentication before sensitive changes (OWASP ASVS 2.2.3, 3.7.1)."""

import json

import pytest

from harness.client import REAUTH_FORM, IndexClient
from harness.targets import Profile

# The recovery codes' page is the one that asks for the password after seconds.
pytestmark = [pytest.mark.protocol, pytest.mark.needs("recovery_codes")]

GENERATE = "/manage/account/recovery-codes/generate"


@pytest.fixture
def stale_session(make_account, client: IndexClient, target_profile: Profile, let_time_pass):
    """A logged-in account whose authentication is older than the recovery codes' limit."""
    account = make_account()
    client.login(account.username, account.password)
    let_time_pass(target_profile.ages.reauthenticate_recovery_codes + 1)
    return account, client


class TestReauthenticate:
    @pytest.mark.requirement("REAUTH-01")
    def test_stale_login_is_asked_for_the_password(self, stale_session) -> None:
        _, client = stale_session
        page = client.get(GENERATE)
        assert page.has(REAUTH_FORM)
        assert page.texts(".recovery-codes ul li code") == []

    @pytest.mark.requirement("REAUTH-01")
    def test_right_password_opens_the_page_that_asked(self, stale_session) -> None:
        account, client = stale_session
        page = client.reauthenticate(client.get(GENERATE), account.password)
        assert (page.status, page.location) == (303, GENERATE)
        assert len(client.follow(page).texts(".recovery-codes ul li code")) == 8

    @pytest.mark.requirement("REAUTH-02")
    def test_wrong_password_is_refused(self, stale_session) -> None:
        account, client = stale_session
        page = client.reauthenticate(client.get(GENERATE), account.password + "x")
        assert page.status == 200
        assert page.errors("password")
        assert client.get(GENERATE).has(REAUTH_FORM)

    @pytest.mark.requirement("REAUTH-03")
    def test_another_users_password_and_username_are_refused(
        self, stale_session, make_account
    ) -> None:
        _, client = stale_session
        other = make_account()
        page = client.reauthenticate(client.get(GENERATE), other.password, username=other.username)
        assert page.status == 200
        assert client.get(GENERATE).has(REAUTH_FORM)

    @pytest.mark.requirement("REAUTH-03")
    def test_hidden_username_is_not_what_decides_the_user(
        self, stale_session, make_account
    ) -> None:
        account, client = stale_session
        other = make_account()
        page = client.reauthenticate(
            client.get(GENERATE), account.password, username=other.username
        )
        assert page.status == 303
        assert client.get("/").one("#user-indicator").get_text(strip=True) == account.username

    @pytest.mark.requirement("REAUTH-04")
    @pytest.mark.parametrize(
        "field,value",
        [
            ("next_route_matchdict", "{not json"),
            ("next_route_query", "[1, 2"),
            ("next_route", "no.such.route"),
        ],
    )
    def test_malformed_hidden_fields_get_400(self, stale_session, field: str, value: str) -> None:
        account, client = stale_session
        page = client.reauthenticate(client.get(GENERATE), account.password, **{field: value})
        assert page.status == 400

    @pytest.mark.requirement("REAUTH-04")
    def test_well_formed_hidden_fields_are_accepted(self, stale_session) -> None:
        account, client = stale_session
        page = client.reauthenticate(
            client.get(GENERATE), account.password, next_route_query=json.dumps({})
        )
        assert page.status == 303

    @pytest.mark.requirement("REAUTH-05")
    def test_fresh_login_is_not_asked_again(self, make_account, client: IndexClient) -> None:
        account = make_account()
        client.login(account.username, account.password)
        page = client.get(GENERATE)
        assert not page.has(REAUTH_FORM)
        assert len(page.texts(".recovery-codes ul li code")) == 8


TWO_FACTOR_CHANGES = [
    "/manage/account/two-factor/",
    "/manage/account/totp-provision",
    "/manage/account/webauthn-provision",
]
"""The pages where 2FA methods are added or removed (recovery codes have their own age)."""


class TestTwoFactorChanges:
    @pytest.fixture
    def age(self, target_profile: Profile) -> int:
        return target_profile.ages.reauthenticate

    @pytest.mark.requirement("REAUTH-06")
    @pytest.mark.parametrize("path", TWO_FACTOR_CHANGES)
    def test_login_older_than_the_limit_is_asked_for_the_password(
        self, ready_for_two_factor, client: IndexClient, server_clock, age: int, path: str
    ) -> None:
        server_clock(age + 60)
        assert client.get(path).has(REAUTH_FORM)

    @pytest.mark.requirement("REAUTH-06")
    @pytest.mark.parametrize("path", TWO_FACTOR_CHANGES)
    def test_login_younger_than_the_limit_is_not_asked(
        self, ready_for_two_factor, client: IndexClient, server_clock, age: int, path: str
    ) -> None:
        server_clock(age - 60)
        page = client.get(path)
        assert page.status == 200
        assert not page.has(REAUTH_FORM)

    @pytest.mark.requirement("REAUTH-06")
    @pytest.mark.parametrize(("later", "asked"), [(60, True), (-60, False)], ids=["old", "young"])
    def test_removing_totp_asks_a_login_older_than_the_limit_for_the_password(
        self, make_account, client: IndexClient, server_clock, age: int, later: int, asked: bool
    ) -> None:
        account = make_account(totp=True)
        client.log_in_with_totp(account.username, account.password, account.totp.current())
        page = client.get("/manage/account/two-factor/")
        server_clock(age + later)
        answer = client.submit_page(
            page, "form#remove-totp-form", confirm_password=account.password
        )
        assert answer.has(REAUTH_FORM) is asked
        assert answer.status == (200 if asked else 303)
