"""Which browser a run launches, and the one line a tester gets when it is missing."""

from pathlib import Path

import pytest
from playwright.sync_api import Playwright

from harness.browsers import launch_args
from harness.errors import HarnessError


@pytest.mark.parametrize("name", ["firefox", "webkit"])
def test_firefox_and_webkit_are_playwrights_own_or_a_one_line_install_hint(
    playwright: Playwright, name: str
) -> None:
    browser_type = getattr(playwright, name)
    if Path(browser_type.executable_path).exists():
        assert launch_args(browser_type) == {}
        return
    with pytest.raises(HarnessError) as refused:
        launch_args(browser_type)
    assert str(refused.value) == (
        f"Playwright's {name} is not installed: run `playwright install {name}`"
        f" (and, as root, `playwright install-deps {name}`)"
    )


def test_a_run_with_a_missing_browser_ends_with_that_line(
    pytester: pytest.Pytester, playwright: Playwright
) -> None:
    if Path(playwright.webkit.executable_path).exists():
        pytest.skip("Playwright's WebKit is installed here: nothing is missing")
    pytester.makepyfile("def test_page(page): pass")
    result = pytester.runpytest_subprocess("--browser=webkit", "-p", "no:randomly")
    assert result.ret == 2
    result.stdout.fnmatch_lines(["*harness: Playwright's webkit is not installed: run *"])
