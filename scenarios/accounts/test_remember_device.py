"""Remember-device: the cookie that lets a login skip the second factor, at protocol level."""

import copy
import string
from email.utils import parsedate_to_datetime
from http.cookiejar import Cookie

import pytest

from harness.accounts import TestAccount
from harness.client import REMEMBER_DEVICE_COOKIE, HtmlPage, IndexClient
from harness.targets import Profile

pytestmark = [pytest.mark.protocol, pytest.mark.needs("remember_device")]

AGE_TOLERANCE = 60
"""Seconds a cookie's lifetime may differ from the expected one (``Expires`` against ``Date``)."""

BASE64URL = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"


@pytest.fixture
def remember_device_age(target_profile: Profile) -> int:
    """The lifetime of the cookie the target promises (its profile says)."""
    return target_profile.ages.remember_device


@pytest.fixture
def account(make_account) -> TestAccount:
    account = make_account(totp=True)
    account.totp.wait_for_fresh_step()
    return account


@pytest.fixture
def remembered_login(account: TestAccount, client: IndexClient) -> HtmlPage:
    """``account``'s TOTP login on ``client`` with the remember-device box ticked: the answer."""
    two_factor_url = client.password_step(account.username, account.password)
    page = client.two_factor_totp_remembered(two_factor_url, account.totp.current())
    assert page.status == 303, "the TOTP step with the box ticked did not log in"
    return page


@pytest.fixture
def plain_login(account: TestAccount, client: IndexClient) -> HtmlPage:
    """``account``'s TOTP login on ``client`` with the box left unticked: the answer."""
    page = client.log_in_with_totp(account.username, account.password, account.totp.current())
    assert page.status == 303, "the TOTP step did not log in"
    return page


@pytest.fixture
def remember_cookie(remembered_login: HtmlPage, client: IndexClient) -> Cookie:
    """The remember-device cookie ``client`` keeps after the remembered login."""
    cookie = next((c for c in client.http.cookies if c.name == REMEMBER_DEVICE_COOKIE), None)
    assert cookie is not None, f"the remembered login set no {REMEMBER_DEVICE_COOKIE} cookie"
    return cookie


def set_cookie_attributes(page: HtmlPage, name: str) -> dict[str, str] | None:
    """The attributes of the ``Set-Cookie`` for ``name`` on ``page`` (lower-case names, flags
    as ""), or None when the page sets no such cookie."""
    for header in page.response.raw.headers.getlist("Set-Cookie"):
        pair, *attributes = (part.strip() for part in header.split(";"))
        if pair.partition("=")[0] == name:
            return {
                key.lower(): value
                for key, _, value in (attribute.partition("=") for attribute in attributes)
            }
    return None


def lifetime(page: HtmlPage, attributes: dict[str, str]) -> float | None:
    """Seconds the cookie lives: its ``Max-Age``, else ``Expires`` less the answer's ``Date``;
    None for a cookie that ends with the browser session."""
    if "max-age" in attributes:
        return float(attributes["max-age"])
    if "expires" in attributes:
        sent = parsedate_to_datetime(page.response.headers["Date"])
        return (parsedate_to_datetime(attributes["expires"]) - sent).total_seconds()
    return None


def flipped(value: str, index: int) -> str:
    """``value`` with its character at ``index`` changed so that it decodes to other bits.

    The top bit of a base64url character is data wherever the character stands (only the low
    bits of a segment's last character may be padding), so toggling it changes what the value
    says; a character outside base64url becomes "A".
    """
    index %= len(value)
    char = value[index]
    new = BASE64URL[BASE64URL.index(char) ^ 32] if char in BASE64URL else "A"
    return value[:index] + new + value[index + 1 :]


def plant(cookie: Cookie, client: IndexClient, value: str | None = None) -> None:
    """Give ``client`` a copy of ``cookie`` (with ``value`` instead, if given), as a copied or
    forged cookie would be sent."""
    planted = copy.copy(cookie)
    if value is not None:
        planted.value = value
    client.http.cookies.set_cookie(planted)


def is_logged_in(client: IndexClient) -> bool:
    return client.get("/manage/account/").status == 200


def asks_for_the_second_factor(page: HtmlPage) -> bool:
    """The password step's answer sends the browser to the two-factor page."""
    return page.status == 303 and page.location.startswith("/account/two-factor/?")


def skips_the_second_factor(client: IndexClient, page: HtmlPage) -> bool:
    """The password step's answer logged ``client`` in without the two-factor page."""
    return page.status == 303 and not asks_for_the_second_factor(page) and is_logged_in(client)


class TestRememberDeviceCookie:
    @pytest.mark.requirement("REMEMBER-DEVICE-01")
    def test_ticked_box_sets_an_httponly_samesite_strict_cookie(
        self, remembered_login: HtmlPage
    ) -> None:
        attributes = set_cookie_attributes(remembered_login, REMEMBER_DEVICE_COOKIE)
        assert attributes is not None, f"no {REMEMBER_DEVICE_COOKIE} cookie was set"
        assert "httponly" in attributes
        assert attributes.get("samesite", "").lower() == "strict"

    @pytest.mark.requirement("REMEMBER-DEVICE-01")
    def test_ticked_box_sets_a_cookie_that_lives_thirty_days(
        self, remembered_login: HtmlPage, remember_device_age: int
    ) -> None:
        attributes = set_cookie_attributes(remembered_login, REMEMBER_DEVICE_COOKIE)
        assert attributes is not None, f"no {REMEMBER_DEVICE_COOKIE} cookie was set"
        seconds = lifetime(remembered_login, attributes)
        assert seconds is not None, "the cookie ends with the browser session"
        assert abs(seconds - remember_device_age) <= AGE_TOLERANCE, seconds

    @pytest.mark.requirement("REMEMBER-DEVICE-01")
    def test_unticked_box_sets_no_remember_device_cookie(self, plain_login: HtmlPage) -> None:
        assert set_cookie_attributes(plain_login, REMEMBER_DEVICE_COOKIE) is None


class TestRememberedLogin:
    @pytest.mark.requirement("REMEMBER-DEVICE-01")
    def test_next_login_on_the_remembered_client_skips_the_second_factor(
        self, account: TestAccount, client: IndexClient, remembered_login: HtmlPage
    ) -> None:
        client.logout()
        page = client.login(account.username, account.password)
        assert skips_the_second_factor(client, page)

    @pytest.mark.requirement("REMEMBER-DEVICE-01")
    def test_next_login_without_the_box_ticked_asks_for_the_second_factor(
        self, account: TestAccount, client: IndexClient, plain_login: HtmlPage
    ) -> None:
        client.logout()
        page = client.login(account.username, account.password)
        assert asks_for_the_second_factor(page)
        assert not is_logged_in(client)


class TestPlantedCookie:
    @pytest.mark.requirement("REMEMBER-DEVICE-01")
    def test_own_cookie_copied_to_another_client_skips_the_second_factor(
        self, account: TestAccount, remember_cookie: Cookie, make_client
    ) -> None:
        other = make_client()
        plant(remember_cookie, other)
        page = other.login(account.username, account.password)
        assert skips_the_second_factor(other, page)

    @pytest.mark.requirement("REMEMBER-DEVICE-01")
    def test_cookie_of_another_user_does_not_skip_the_second_factor(
        self, remember_cookie: Cookie, make_account, make_client
    ) -> None:
        other_user = make_account(totp=True)
        other = make_client()
        plant(remember_cookie, other)
        page = other.login(other_user.username, other_user.password)
        assert asks_for_the_second_factor(page)
        assert not is_logged_in(other)

    @pytest.mark.requirement("REMEMBER-DEVICE-01")
    @pytest.mark.parametrize(
        "position",
        [
            pytest.param(lambda length: 0, id="first-character"),
            pytest.param(lambda length: length // 2, id="middle-character"),
            pytest.param(lambda length: length - 1, id="last-character"),
        ],
    )
    def test_tampered_cookie_does_not_skip_the_second_factor(
        self, account: TestAccount, remember_cookie: Cookie, make_client, position
    ) -> None:
        value = str(remember_cookie.value)
        other = make_client()
        plant(remember_cookie, other, flipped(value, position(len(value))))
        page = other.login(account.username, account.password)
        assert asks_for_the_second_factor(page)
        assert not is_logged_in(other)
