"""Reflow (WCAG 2.1 SC 1.4.10): every page of the flows reads at 320 CSS px without scrolling
sideways."""

from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from harness.accessibility import overflows_horizontally
from scenarios.accessibility.contract_pages import CONTRACT_PAGES

pytestmark = pytest.mark.browser

NARROW = {"width": 320, "height": 640}
"""WCAG's reflow width: 320 CSS px (1280 px at 400 % zoom)."""


class TestReflow:
    @pytest.mark.requirement("A11Y-REFLOW-01")
    @pytest.mark.parametrize("page_name", list(CONTRACT_PAGES))
    def test_page_needs_no_horizontal_scrolling_at_320_px(
        self, page_name: str, page: Page, open_contract_page: Callable[[str], Page]
    ) -> None:
        page.set_viewport_size(NARROW)
        open_contract_page(page_name)
        assert not overflows_horizontally(page), (
            f"{page_name} is wider than a {NARROW['width']} px viewport: it scrolls sideways"
        )
