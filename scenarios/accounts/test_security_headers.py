"""Pages that change 2FA or the account cannot be framed, so they cannot be clickjacked
(OWASP ASVS 14.4.7), at protocol level."""

import time

import pytest
from requests.structures import CaseInsensitiveDict

from harness.client import REAUTH_FORM, HtmlPage, IndexClient
from harness.targets import Profile

pytestmark = pytest.mark.protocol

SENSITIVE_PAGES = [
    pytest.param("/manage/account/", "#account-emails", id="account"),
    pytest.param("/manage/account/two-factor/", "a#add-totp", id="two-factor-management"),
    pytest.param("/manage/account/totp-provision", ".totp-form__qr img", id="totp-provisioning"),
    pytest.param(
        "/manage/account/webauthn-provision", "form#webauthn-provision-form", id="key-provisioning"
    ),
    pytest.param(
        "/manage/account/recovery-codes/generate",
        "#recovery-codes-exist",
        id="recovery-codes",
        marks=pytest.mark.needs("recovery_codes"),
    ),
    pytest.param(
        "/manage/account/recovery-codes/regenerate",
        ".recovery-codes ul li code",
        id="recovery-codes-regenerated",
        marks=pytest.mark.needs("recovery_codes"),
    ),
    pytest.param(
        "/manage/account/recovery-codes/burn",
        "form#recovery-code-burn-form",
        id="recovery-code-burn",
        marks=pytest.mark.needs("recovery_codes"),
    ),
]
"""Each page, and an element only that page has (so the headers checked are the page's own,
not those of a redirect or an error)."""


FRAMING_HEADERS = ("X-Frame-Options", "Content-Security-Policy")


def forbids_framing(headers: CaseInsensitiveDict) -> bool:
    """X-Frame-Options DENY or SAMEORIGIN, or a CSP frame-ancestors that lets no other site in."""
    if headers.get("X-Frame-Options", "").strip().upper() in ("DENY", "SAMEORIGIN"):
        return True
    for directive in headers.get("Content-Security-Policy", "").split(";"):
        name, *sources = directive.split() or [""]
        if name.lower() == "frame-ancestors":
            return bool(sources) and not any(s == "*" or s.endswith(":") for s in sources)
    return False


def framing_headers(page: HtmlPage) -> dict[str, str | None]:
    """The headers that decide framing (not all of them: Set-Cookie holds the session)."""
    return {name: page.response.headers.get(name) for name in FRAMING_HEADERS}


@pytest.fixture
def logged_in(make_account, client: IndexClient, target_profile: Profile):
    """A logged-in account that may add its first 2FA method, with recovery codes where the
    target has them."""
    codes = not target_profile.lacks("recovery_codes")
    account = make_account(two_factor_ready=True, recovery_codes=codes)
    assert client.login(account.username, account.password).status == 303
    return account


class TestFraming:
    @pytest.mark.requirement("HEADERS-FRAME-01")
    @pytest.mark.parametrize(("path", "own_element"), SENSITIVE_PAGES)
    def test_page_that_changes_2fa_or_the_account_cannot_be_framed(
        self, logged_in, client: IndexClient, path: str, own_element: str
    ) -> None:
        page = client.open_sensitive(path, logged_in.password)
        assert (page.status, page.has(own_element)) == (200, True)
        assert forbids_framing(page.response.headers), framing_headers(page)

    @pytest.mark.requirement("HEADERS-FRAME-01")
    @pytest.mark.needs("recovery_codes")  # its page asks for the password after seconds
    def test_reauthentication_form_cannot_be_framed(
        self, logged_in, client: IndexClient, target_profile: Profile
    ) -> None:
        age = target_profile.ages.reauthenticate_recovery_codes
        if age > 60:
            pytest.skip(f"the target asks to re-authenticate only after {age} s, too long to wait")
        time.sleep(age + 1)  # no other way to a stale login: the form shows only then
        page = client.get("/manage/account/recovery-codes/regenerate")
        assert (page.status, page.has(REAUTH_FORM)) == (200, True)
        assert forbids_framing(page.response.headers), framing_headers(page)
