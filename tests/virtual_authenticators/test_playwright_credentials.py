"""Playwright's ``context.credentials``: installed on construction, a clear error without it.

The authenticator itself runs in ``scenarios/webauthn/test_webauthn_journeys.py``.
"""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext

from virtual_authenticators.base import AuthenticatorError
from virtual_authenticators.playwright_credentials import PlaywrightCredentials


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context()
    yield context
    context.close()


def test_credentials_made_in_the_context_are_listed(context: BrowserContext) -> None:
    key = PlaywrightCredentials(context)
    made = context.credentials.create("localhost", sign_count=4)
    assert key.credentials == (made["id"],)
    assert key.sign_count(made["id"]) == 4


def test_sign_count_of_a_credential_not_held_is_a_key_error(context: BrowserContext) -> None:
    with pytest.raises(KeyError):
        PlaywrightCredentials(context).sign_count("AAAA")


def test_playwright_without_context_credentials_is_named_in_the_error() -> None:
    class OlderContext:
        """What a BrowserContext of Playwright before 1.61 offers here: no ``credentials``."""

    with pytest.raises(AuthenticatorError, match=r"needs Playwright >= 1\.61"):
        PlaywrightCredentials(OlderContext())  # type: ignore[arg-type]
