"""Re-authentication before sensitive changes (OWASP ASVS 2.2.3, 3.7.1)."""

import json
import time

import pytest

from harness.client import REAUTH_FORM, IndexClient
from harness.targets import Profile

pytestmark = pytest.mark.protocol

GENERATE = "/manage/account/recovery-codes/generate"


@pytest.fixture
def stale_session(make_account, client: IndexClient, target_profile: Profile):
    """A logged-in account whose authentication is older than the recovery codes' limit."""
    age = target_profile.ages.reauthenticate_recovery_codes
    if age > 60:
        pytest.skip(f"the target asks to re-authenticate only after {age} s, too long to wait")
    account = make_account()
    client.login(account.username, account.password)
    time.sleep(age + 1)
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
