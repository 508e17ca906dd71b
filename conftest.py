"""Wires the harness into pytest for this repository's scenarios and tests."""

import pytest
from playwright.sync_api import BrowserType

from harness import browsers
from harness.errors import HarnessError

pytest_plugins = ["harness.plugin", "pytester"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict, browser_type: BrowserType) -> dict:
    """pytest-playwright's launch arguments, plus the system's Chromium when Playwright has none."""
    try:
        return {**browser_type_launch_args, **browsers.launch_args(browser_type)}
    except HarnessError as error:
        pytest.exit(f"harness: {error}", returncode=2)
