"""The wait for a security key's answer ends on the page's outcome, however quick the key was:
pages served by the browser itself, so that where the browser stands is set by the test."""

import pytest
from playwright.sync_api import Page, Route

from harness.pages import TwoFactorPage, WebAuthnError, WebAuthnProvisionPage
from harness.pages.webauthn_provision import wait_for_outcome

ORIGIN = "http://localhost:9"
"""Never reached: every request is answered by the route below."""
PAGE = "<!doctype html><html lang='en'><title>t</title><ul id='webauthn-errors'>{}</ul></html>"


@pytest.fixture
def served(page: Page) -> Page:
    """``page``, with every URL of :data:`ORIGIN` answered by an error-free page, except those
    whose query is ``refused``: they show one error."""

    def fulfil(route: Route) -> None:
        refused = route.request.url.endswith("?refused")
        errors = "<li>Your key was refused.</li>" if refused else ""
        route.fulfill(content_type="text/html", body=PAGE.format(errors))

    page.route(f"{ORIGIN}/**", fulfil)
    return page


def test_a_key_that_moved_the_browser_on_before_the_wait_ends_it_at_once(served: Page) -> None:
    served.goto(f"{ORIGIN}/")
    wait_for_outcome(TwoFactorPage(served), "a quick key", timeout_ms=10_000)


def test_an_error_shown_on_the_page_ends_the_wait(served: Page) -> None:
    served.goto(f"{ORIGIN}{TwoFactorPage.path}?refused")
    wait_for_outcome(TwoFactorPage(served), "a refused key", timeout_ms=10_000)


@pytest.mark.parametrize("page_object", [TwoFactorPage, WebAuthnProvisionPage])
def test_a_key_that_never_answers_fails_the_wait_naming_the_key_and_the_page(
    served: Page, page_object: type[TwoFactorPage] | type[WebAuthnProvisionPage]
) -> None:
    served.goto(f"{ORIGIN}{page_object.path}")
    message = f"a silent key did not answer within 1 s \\(page {page_object.path}\\)"
    with pytest.raises(WebAuthnError, match=message):
        wait_for_outcome(page_object(served), "a silent key", timeout_ms=1_000)
