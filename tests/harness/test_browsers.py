"""Which browser a run launches, and the one line a tester gets when it is missing."""

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Playwright

from harness.browsers import launch_args, system_chromium
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


def installed(folder: Path, *names: str) -> Path:
    """A PATH folder holding executables of these names."""
    for name in names:
        program = folder / name
        program.write_text("#!/bin/sh\n")
        program.chmod(0o755)
    return folder


def test_a_headless_run_takes_the_systems_headless_shell_and_a_headed_run_the_full_browser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(installed(tmp_path, "chromium", "chromium-headless-shell")))
    assert system_chromium(headless=True) == tmp_path / "chromium-headless-shell"
    assert system_chromium(headless=False) == tmp_path / "chromium"


def test_a_headless_run_takes_the_full_browser_where_no_headless_shell_is_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(installed(tmp_path, "chromium")))
    assert system_chromium(headless=True) == tmp_path / "chromium"


@pytest.mark.parametrize(
    ("options", "program"),
    [((), "chromium-headless-shell"), (("--headed",), "chromium")],
    ids=["headless", "headed"],
)
def test_the_plugin_launches_the_browser_a_run_shows_or_hides(
    pytester: pytest.Pytester, playwright: Playwright, options: tuple[str, ...], program: str
) -> None:
    if Path(playwright.chromium.executable_path).exists():
        pytest.skip("Playwright's Chromium is installed here: no system browser is chosen")
    if shutil.which("chromium-headless-shell") is None:
        pytest.skip("no chromium-headless-shell here: headless runs use the full browser")
    pytester.makepyfile(
        """
        from pathlib import Path

        def test_launch(browser_type_launch_args):
            print("launches", Path(browser_type_launch_args["executable_path"]).name)
        """
    )
    result = pytester.runpytest_subprocess("-s", "-p", "no:randomly", *options)
    assert result.ret == 0
    result.stdout.fnmatch_lines([f"*launches {program}"])
