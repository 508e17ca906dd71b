"""Fixtures of the accessibility scenarios: a contract page opened by name."""

from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from harness.accounts import TestAccount
from harness.targets import Profile
from scenarios.accessibility.contract_pages import CONTRACT_PAGES, Visit


@pytest.fixture
def open_contract_page(
    page: Page,
    make_account: Callable[..., TestAccount],
    let_time_pass: Callable[[int], None],
    target_profile: Profile,
) -> Callable[[str], Page]:
    """Opens the contract's page of that name (``CONTRACT_PAGES``) in ``page``; returns it."""

    def open_page(name: str) -> Page:
        CONTRACT_PAGES[name](Visit(page, make_account, let_time_pass, target_profile))
        return page

    return open_page
