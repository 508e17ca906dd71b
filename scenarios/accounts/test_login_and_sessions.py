"""Password login, logout, server-side sessions and CSRF, at protocol level."""

import secrets
from urllib.parse import urljoin, urlsplit

import pytest

from harness.client import HtmlPage, IndexClient

pytestmark = pytest.mark.protocol

OFF_SITE = ["https://evil.example/", "//evil.example/", "/\\evil.example/"]
"""``next`` values that lead off the site: absolute, scheme-relative, a backslash trick."""


def refusal(page: HtmlPage) -> tuple[int, list[str], list[str], list[str]]:
    """What a refused login shows: the status, the form's errors and each field's."""
    return page.status, page.errors(), page.errors("username"), page.errors("password")


def leads_into_the_index(client: IndexClient, page: HtmlPage) -> bool:
    """``page`` redirects (303) to a page of the index, wherever a browser would take it.

    Browsers read a backslash in a URL as a slash, so ``/\\host`` leads to another host.
    """
    location = page.response.headers.get("Location", "").replace("\\", "/")
    target = urlsplit(urljoin(page.url, location))
    return page.status == 303 and (target.scheme, target.netloc) == urlsplit(client.origin)[:2]


class TestLogin:
    @pytest.mark.requirement("LOGIN-PASSWORD-01")
    def test_account_without_2fa_goes_to_its_projects(
        self, make_account, client: IndexClient
    ) -> None:
        account = make_account()
        page = client.login(account.username, account.password)
        assert (page.status, page.location) == (303, "/manage/projects/")
        assert client.get("/manage/projects/").status == 200

    @pytest.mark.requirement("LOGIN-PASSWORD-02")
    def test_wrong_password_is_refused(self, make_account, client: IndexClient) -> None:
        account = make_account()
        page = client.login(account.username, account.password + "x")
        assert page.status == 200
        assert page.errors("password")
        assert client.get("/manage/projects/").status == 303

    @pytest.mark.requirement("LOGIN-UNKNOWN-USER-01")
    def test_unknown_user_gets_a_form_error_not_a_crash(self, client: IndexClient) -> None:
        page = client.login("nobody-" + "x" * 20, "whatever-password")
        assert page.status == 200
        assert page.errors("username") or page.errors("password") or page.errors()

    @pytest.mark.requirement("LOGIN-NEXT-01")
    def test_next_within_the_site_is_followed(self, make_account, client: IndexClient) -> None:
        account = make_account()
        page = client.login(account.username, account.password, next_path="/manage/account/")
        assert (page.status, page.location) == (303, "/manage/account/")

    @pytest.mark.requirement("LOGIN-NEXT-02")
    @pytest.mark.parametrize("evil", OFF_SITE)
    def test_next_to_another_site_is_ignored(
        self, make_account, client: IndexClient, evil: str
    ) -> None:
        account = make_account()
        page = client.login(account.username, account.password, next_path=evil)
        assert page.status == 303
        location = page.response.headers["Location"]
        assert "evil.example" not in location

    @pytest.mark.requirement("LOGIN-ENUMERATION-01")
    def test_unknown_user_and_wrong_passwords_get_the_same_answer(
        self, make_account, make_client
    ) -> None:
        plain, with_totp = make_account(), make_account(totp=True)
        answers = [
            refusal(make_client().login(username, "wrong-" + secrets.token_urlsafe(12)))
            for username in (
                "nobody" + secrets.token_hex(6),
                plain.username,
                with_totp.username,
            )
        ]
        assert any(answers[0][1:]), "the unknown username's answer shows no error"
        assert answers == [answers[0]] * 3

    @pytest.mark.requirement("LOGIN-NEXT-03")
    @pytest.mark.parametrize("evil", OFF_SITE)
    def test_next_to_another_site_is_ignored_through_the_two_factor_step(
        self, make_account, client: IndexClient, evil: str
    ) -> None:
        account = make_account(totp=True)
        password_step = client.login(account.username, account.password, next_path=evil)
        assert leads_into_the_index(client, password_step)
        assert password_step.location.startswith("/account/two-factor/?")
        done = client.two_factor_totp(password_step.location, account.totp.current())
        assert leads_into_the_index(client, done)

    @pytest.mark.requirement("LOGIN-NEXT-03")
    def test_next_within_the_site_is_followed_through_the_two_factor_step(
        self, make_account, client: IndexClient
    ) -> None:
        account = make_account(totp=True)
        password_step = client.login(account.username, account.password, "/manage/account/")
        done = client.two_factor_totp(password_step.location, account.totp.current())
        assert (done.status, done.location) == (303, "/manage/account/")
        assert leads_into_the_index(client, done)

    @pytest.mark.requirement("LOGIN-PASSWORD-03")
    def test_logged_in_user_is_sent_away_from_the_login_form(
        self, make_account, client: IndexClient
    ) -> None:
        account = make_account()
        client.login(account.username, account.password)
        assert client.get("/account/login/").status == 303


class TestSession:
    @pytest.mark.requirement("SESSION-ROTATE-01")
    def test_session_id_changes_at_login(self, make_account, client: IndexClient) -> None:
        account = make_account()
        client.get("/account/login/")
        before = client.session_id
        assert before
        client.login(account.username, account.password)
        assert client.session_id and client.session_id != before

    @pytest.mark.requirement("SESSION-FIXATION-01")
    def test_session_id_from_before_login_grants_nothing_after_it(
        self, make_account, make_client
    ) -> None:
        victim, attacker = make_client(), make_client()
        account = make_account()
        attacker.get("/account/login/")
        victim.use_session_id(attacker.session_id)
        victim.login(account.username, account.password)
        assert attacker.get("/manage/projects/").status == 303
        assert victim.get("/manage/projects/").status == 200

    @pytest.mark.requirement("SESSION-LOGOUT-01")
    def test_logout_ends_the_session_on_the_server(self, make_account, make_client) -> None:
        client, replay = make_client(), make_client()
        account = make_account()
        client.login(account.username, account.password)
        old_id = client.session_id
        page = client.logout()
        assert (page.status, page.location) == (303, "/")
        replay.use_session_id(old_id)
        assert replay.get("/manage/projects/").status == 303
        assert client.get("/manage/projects/").status == 303

    @pytest.mark.requirement("SESSION-COOKIE-01")
    def test_session_cookie_is_httponly_and_samesite(self, client: IndexClient) -> None:
        header = client.get("/account/login/").response.headers.get("Set-Cookie", "")
        assert header.startswith("session_id=")
        assert "httponly" in header.lower()
        assert "samesite=lax" in header.lower()


class TestCsrf:
    @pytest.mark.requirement("CSRF-01")
    def test_login_without_csrf_token_is_refused(self, make_account, client: IndexClient) -> None:
        account = make_account()
        client.get("/account/login/")
        page = client.post(
            "/account/login/", {"username": account.username, "password": account.password}
        )
        assert page.status == 400
        assert client.get("/manage/projects/").status == 303

    @pytest.mark.requirement("CSRF-02")
    def test_csrf_token_of_another_session_is_refused(self, make_account, make_client) -> None:
        client, other = make_client(), make_client()
        account = make_account()
        client.get("/account/login/")
        token = other.csrf_token()
        page = client.post(
            "/account/login/",
            {"csrf_token": token, "username": account.username, "password": account.password},
        )
        assert page.status == 400

    @pytest.mark.requirement("CSRF-03")
    def test_csrf_token_from_before_login_is_void_after_it(
        self, make_account, client: IndexClient
    ) -> None:
        account = make_account()
        old_token = client.csrf_token()
        client.login(account.username, account.password)
        page = client.post("/account/logout/", {"csrf_token": old_token})
        assert page.status == 400
        assert client.get("/manage/projects/").status == 200

    @pytest.mark.requirement("CSRF-04")
    def test_logout_without_csrf_token_keeps_the_session(
        self, make_account, client: IndexClient
    ) -> None:
        account = make_account()
        client.login(account.username, account.password)
        assert client.post("/account/logout/", {}).status == 400
        assert client.get("/manage/projects/").status == 200

    @pytest.mark.requirement("CSRF-01")
    def test_login_with_its_own_csrf_token_is_accepted(
        self, make_account, client: IndexClient
    ) -> None:
        account = make_account()
        page = client.login(account.username, account.password)
        assert page.status == 303
