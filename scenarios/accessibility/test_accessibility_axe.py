"""WCAG 2.1 A/AA on every page of the login and two-factor flows, as axe-core checks it."""

from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from harness.accessibility import (
    attach_axe_results,
    axe_violations,
    describe_violations,
    serious,
)
from scenarios.accessibility.contract_pages import CONTRACT_PAGES

pytestmark = pytest.mark.browser


class TestAxeCore:
    @pytest.mark.requirement("A11Y-AXE-01")
    @pytest.mark.parametrize("page_name", list(CONTRACT_PAGES))
    def test_page_has_no_serious_or_critical_violation(
        self, page_name: str, open_contract_page: Callable[[str], Page]
    ) -> None:
        page = open_contract_page(page_name)
        violations = axe_violations(page)
        attach_axe_results(page_name, violations)
        blocking = serious(violations)
        assert not blocking, (
            f"axe-core found serious or critical WCAG 2.1 A/AA violations on {page_name} "
            f"(rule (impact): targets):\n{describe_violations(blocking)}"
        )
