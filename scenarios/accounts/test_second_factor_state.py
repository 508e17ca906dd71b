"""After the password step alone the session grants nothing (OWASP ASVS 3.7.1), on every route a
logged-in session can reach, found by crawling the management pages rather than listed here."""

import json
from collections.abc import Callable

import pytest

from harness.accounts import TestAccount
from harness.client import TOTP_FORM, WEBAUTHN_PROVISION, HtmlPage, IndexClient
from harness.crawl import Route, crawl
from virtual_authenticators.kinds import software_key

pytestmark = pytest.mark.protocol

RECOVERY_CODES = ".recovery-codes ul li code"
STARTS = ("/manage/account/", "/manage/account/two-factor/")

PUBLIC = (
    "/account/login/",
    "/account/logout/",
    "/account/register/",
    "/account/two-factor/",
    "/account/recovery-code/",
    "/account/request-password-reset/",
    "/account/reset-password/",
    "/account/webauthn-authenticate/",
    "/static/",
)
"""Paths anyone may open (the login flow's own pages among them), besides the home page."""

JSON_ENDPOINTS = (
    Route("GET", f"{WEBAUTHN_PROVISION}/options"),
    Route("POST", f"{WEBAUTHN_PROVISION}/validate", (("label", ""), ("credential", ""))),
)
"""The contract's JSON endpoints behind a login, which the pages reach only by script."""


def protected(path: str) -> bool:
    return path != "/" and not path.startswith(PUBLIC)


@pytest.fixture
def account(make_account) -> TestAccount:
    """An account with every kind of second factor, so that every management form is shown."""
    return make_account(totp=True, recovery_codes=True, security_key=software_key("soft"))


@pytest.fixture
def logged_in(account: TestAccount, make_client) -> IndexClient:
    """A session in which ``account`` has done both login steps."""
    client = make_client()
    page = client.log_in_with_totp(account.username, account.password, account.totp.current())
    assert page.status == 303
    return client


@pytest.fixture
def reachable(logged_in: IndexClient) -> list[Route]:
    """Every protected route the logged-in session reaches: the JSON endpoints, then the routes
    crawled two links deep from the start pages (the burn form is behind the regeneration
    page). In that order, since opening a regeneration page voids the recovery codes that
    provisioning a key may ask to have burned."""
    found = crawl(logged_in, STARTS, within=protected, depth=2)
    assert [found.pages[path].status for path in STARTS] == [200, 200]
    shown = [code for page in found.pages.values() for code in page.texts(RECOVERY_CODES)]
    if shown:  # the crawl regenerated the codes: burn one, as setting up 2FA may need
        assert logged_in.burn_recovery_code(shown[0]).status == 303
    return [*JSON_ENDPOINTS, *found.routes]


def sender(client: IndexClient, csrf_token: str) -> Callable[[Route], HtmlPage]:
    """Sends a route as ``client``: its form as the page had it, with ``client``'s CSRF token."""

    def send(route: Route) -> HtmlPage:
        if route.method == "GET":
            return client.get(route.path)
        return client.post(route.path, {**dict(route.fields), "csrf_token": csrf_token})

    return send


def carries_data(page: HtmlPage) -> bool:
    """The answer is a JSON object with more in it than a ``fail``."""
    try:
        body = json.loads(page.response.text)
    except ValueError:
        return False
    return isinstance(body, dict) and bool(set(body) - {"fail"})


def turned_away(route: Route, page: HtmlPage) -> bool:
    """Refused as a session without a login: a page is a 303 to the login form; a POST or a
    JSON endpoint may instead answer 401 or 403, with no data."""
    to_login = page.status == 303 and page.location.startswith("/account/login/")
    if route.method == "GET" and route not in JSON_ENDPOINTS:
        return to_login
    return to_login or (page.status in (401, 403) and not carries_data(page))


def misanswered(
    routes: list[Route],
    send: Callable[[Route], HtmlPage],
    expected: Callable[[Route, HtmlPage], bool],
) -> list[tuple[str, str, int, str]]:
    """The routes whose answer ``expected(route, page)`` refuses: method, path, status, Location."""
    answers = [(route, send(route)) for route in routes]
    return [
        (route.method, route.path, page.status, page.location)
        for route, page in answers
        if not expected(route, page)
    ]


def reached(route: Route, page: HtmlPage) -> bool:
    """The route answered as it answers a logged-in session: no refusal, no error."""
    return page.status < 400 and not turned_away(route, page)


class TestPasswordStepAlone:
    @pytest.mark.requirement("TWOFA-PARTIAL-02")
    def test_every_management_route_and_json_endpoint_refuses_the_session(
        self, account, reachable, make_client
    ) -> None:
        assert any(route.method == "POST" for route in reachable), reachable
        partial = make_client()
        two_factor_url = partial.password_step(account.username, account.password)
        token = partial.csrf_token(two_factor_url, TOTP_FORM)
        assert misanswered(reachable, sender(partial, token), turned_away) == []

    @pytest.mark.requirement("TWOFA-PARTIAL-02")
    def test_the_logged_in_session_reaches_every_one_of_those_routes(
        self, logged_in, reachable
    ) -> None:
        token = logged_in.csrf_token("/manage/account/", "form#logout-form")
        assert misanswered(reachable, sender(logged_in, token), reached) == []
