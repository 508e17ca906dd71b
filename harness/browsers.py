"""Which browser binary Playwright launches: its own where installed, else the system's.

Headless runs prefer the system's ``chromium-headless-shell`` (Debian's package of Chromium's
old headless mode) to the full ``chromium``: it is what Playwright itself launches for headless
Chromium, and it spends a fraction of the CPU (no GPU process, no browser UI behind the page).
Headed runs need the full browser.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from playwright.sync_api import BrowserType

from harness.errors import HarnessError

SYSTEM_CHROMIUM_NAMES = ("chromium", "chromium-browser")
SYSTEM_HEADLESS_SHELL_NAMES = ("chromium-headless-shell",)
# Without these, Chromium keeps calling Google's services, which an offline machine refuses.
OFFLINE_FLAGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def system_chromium(*, headless: bool = False) -> Path | None:
    """The system's Chromium (Debian's package installs ``/usr/bin/chromium``), if any; for a
    ``headless`` run its headless shell when installed (``/usr/bin/chromium-headless-shell``)."""
    names = (*SYSTEM_HEADLESS_SHELL_NAMES, *SYSTEM_CHROMIUM_NAMES)
    for name in names if headless else SYSTEM_CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def launch_args(browser_type: BrowserType, *, headless: bool = True) -> dict:
    """Extra launch arguments for ``browser_type``: none when Playwright has its own build.

    :param headless: the launch hides the browser, so the system's headless shell will do.

    :raises HarnessError: Chromium is wanted and neither Playwright's nor the system's exists;
        Firefox or WebKit is wanted and Playwright's build of it is not installed (no system
        build will do: Playwright drives its own patched Firefox and WebKit).
    """
    if Path(browser_type.executable_path).exists():
        return {}
    if browser_type.name != "chromium":
        name = browser_type.name
        raise HarnessError(
            f"Playwright's {name} is not installed: run `playwright install {name}`"
            f" (and, as root, `playwright install-deps {name}`)"
        )
    chromium = system_chromium(headless=headless)
    if chromium is None:
        raise HarnessError(
            "no Chromium found: run `playwright install chromium`, or on Debian"
            " `apt-get install chromium`"
        )
    # Chromium's sandbox cannot start as root.
    sandbox = ["--no-sandbox"] if os.geteuid() == 0 else []
    return {"executable_path": str(chromium), "args": [*sandbox, *OFFLINE_FLAGS]}
