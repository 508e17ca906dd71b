"""A browser on another machine (a browser grid), reached through Playwright's ``connect``.

The remote side is a Playwright browser server of the same major.minor version as this
Playwright (``playwright run-server`` or ``launch-server``, or a grid that speaks the same
protocol; not a CDP endpoint and not Selenium). The harness sends it at most a browser name and
``launch_options``; everything else about how the browser starts is the remote side's choice:

- ``--headed``, ``--slowmo``, ``--browser-channel`` and overrides of ``browser_type_launch_args``
  do not apply to a remote browser, and neither do the system-Chromium arguments of
  :mod:`harness.browsers`: the remote side decides, from its own browsers.
- ``launch_options`` (Playwright's JavaScript names: ``executablePath``, ``args``, ``headless``,
  ``channel``…) are sent in the ``x-playwright-launch-options`` header. A Playwright server
  drops ``executablePath``, ``args`` and ``chromiumSandbox`` unless it was started with
  ``--unsafe``; give them only to a server you run yourself (:func:`local_launch_options`).
- The remote browser must reach the target. A bundled server listens on this machine's
  ``localhost``, which a grid on another machine is not: either pass a ``--base-url`` the grid
  can reach, or ``expose_network="<loopback>"``, which routes the remote browser's requests for
  loopback addresses back through this machine (Playwright's SOCKS tunnel over the same
  WebSocket), so that ``http://localhost:PORT`` stays the origin WebAuthn sees.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserType, Playwright, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from harness import browsers
from harness.errors import HarnessError

SCHEMES = ("ws", "wss")
LAUNCH_OPTIONS_HEADER = "x-playwright-launch-options"
DEFAULT_CONNECT_TIMEOUT = 30.0
"""Seconds to wait for the remote side to accept the connection and start its browser."""

# The server answers an HTTP request that is not a WebSocket upgrade on its path with a status;
# the client reports it as "WebSocket error: <url> <status> <reason>".
_HTTP_STATUS = re.compile(r"\s(\d{3})\s+(.*)$")
_VERSION_MISMATCH = 428  # the server's answer to a client of another major.minor version


class RemoteBrowserError(HarnessError):
    """The remote browser's address is malformed, or it cannot be reached or started."""


def check_ws_url(url: str) -> str | None:
    """The one-line problem with ``url`` as a ``--browser-ws`` endpoint, or None if well formed.

    :param url: must be ``ws://host[:port][/path]`` or ``wss://…``.
    """
    try:
        parts = urlsplit(url)
        port = parts.port  # a malformed port raises only when read
    except ValueError as error:
        return f"--browser-ws {url!r} is not a URL: {error}"
    if parts.scheme not in SCHEMES:
        return f"--browser-ws must be a ws:// or wss:// URL of a Playwright server, not {url!r}"
    if not parts.hostname:
        return f"--browser-ws {url!r} names no host"
    if port == 0:
        return f"--browser-ws {url!r} names port 0"
    return None


def local_launch_options(browser_type: BrowserType) -> dict[str, Any]:
    """Launch options, in the server's JavaScript names, for a Playwright server on a machine set
    up like this one (Debian's Chromium where Playwright has none): what
    :func:`harness.browsers.launch_args` gives a local launch. Empty when Playwright has its own
    build.

    :raises HarnessError: as :func:`harness.browsers.launch_args`.
    """
    return {_camel_case(key): value for key, value in browsers.launch_args(browser_type).items()}


def _camel_case(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


@dataclass(frozen=True)
class RemoteBrowser:
    """A remote browser; its :meth:`plugin` makes pytest-playwright's ``browser`` come from
    ``connect(ws_endpoint)`` instead of ``launch``.

    Register the plugin when ``--browser-ws`` is given, *instead of* the system-browser plugin
    (or after it: the plugin registered last supplies a fixture), so that no local browser is
    looked for on a machine that has none. The plugin overrides pytest-playwright's
    session fixtures ``connect_options`` (which makes ``launch_browser`` connect),
    ``browser_type_launch_args`` (empty: launch arguments do not apply) and ``browser`` (a
    one-line exit instead of a traceback in every test when the connection fails).

    :param ws_endpoint: the Playwright server, ``ws://`` or ``wss://``.
    :param headers: extra HTTP headers for the WebSocket handshake (a grid's token, say).
    :param timeout: seconds to wait for the connection and the remote browser's start; 0 waits
        for ever.
    :param launch_options: sent to the server as its launch options, in Playwright's JavaScript
        names; None sends none, and the server uses its defaults.
    :param expose_network: Playwright's ``exposeNetwork`` rules, e.g. ``"<loopback>"`` for a
        bundled server on this machine; None exposes nothing.
    :raises RemoteBrowserError: ``ws_endpoint`` is malformed, or ``timeout`` negative.
    """

    ws_endpoint: str
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: float = DEFAULT_CONNECT_TIMEOUT
    launch_options: Mapping[str, Any] | None = None
    expose_network: str | None = None

    def __post_init__(self) -> None:
        problem = check_ws_url(self.ws_endpoint)
        if problem:
            raise RemoteBrowserError(problem)
        if self.timeout < 0:
            raise RemoteBrowserError(f"the remote browser's timeout is negative: {self.timeout}")

    def connect_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``BrowserType.connect`` (whose first parameter is ``endpoint``,
        not ``ws_endpoint``): pytest-playwright's ``connect_options``."""
        # Our header replaces the one pytest-playwright's launch_browser builds from
        # browser_type_launch_args, whose Python names (executable_path) the server ignores.
        headers = {LAUNCH_OPTIONS_HEADER: json.dumps(dict(self.launch_options or {}))}
        kwargs: dict[str, Any] = {
            "endpoint": self.ws_endpoint,
            "headers": {**headers, **self.headers},
            "timeout": self.timeout * 1000,
        }
        if self.expose_network:
            kwargs["expose_network"] = self.expose_network
        return kwargs

    def connect(self, browser_type: BrowserType) -> Browser:
        """The remote browser of ``browser_type``'s kind; the caller closes it.

        :raises RemoteBrowserError: the server is unreachable, is not a Playwright server of
            this version, or could not start the browser; one line, see :func:`describe_failure`.
        """
        try:
            return browser_type.connect(**self.connect_kwargs())
        except PlaywrightError as error:
            raise RemoteBrowserError(describe_failure(self.ws_endpoint, error)) from None

    def plugin(self) -> object:
        """The pytest plugin object to register (see the class's docstring). Its fixtures are
        classmethods of a class made for this remote browser: pytest deprecates session
        fixtures that are instance methods."""
        remote = self

        class RemoteBrowserPlugin:
            @pytest.fixture(scope="session")
            @classmethod
            def connect_options(cls) -> dict[str, Any]:
                """pytest-playwright's ``launch_browser`` connects when this is not empty."""
                return remote.connect_kwargs()

            @pytest.fixture(scope="session")
            @classmethod
            def browser_type_launch_args(cls) -> dict[str, Any]:
                """Nothing: the remote side decides how its browser starts."""
                return {}

            @pytest.fixture(scope="session")
            @classmethod
            def browser(cls, launch_browser: Callable[[], Browser]) -> Iterator[Browser]:
                """pytest-playwright's ``browser``, ending the run in one line when it cannot
                connect rather than with a traceback in every test."""
                try:
                    connected = launch_browser()
                except PlaywrightError as error:
                    problem = describe_failure(remote.ws_endpoint, error)
                    pytest.exit(f"harness: {problem}", returncode=2)
                yield connected
                connected.close()

        return RemoteBrowserPlugin()


def describe_failure(url: str, error: PlaywrightError) -> str:
    """One line saying why connecting to the Playwright server at ``url`` failed, and what to
    do: unreachable, not a Playwright server, another Playwright version, or a browser that
    does not start there. Playwright's own message is several lines, with a call log."""
    first = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
    detail = first.removeprefix("BrowserType.connect: ").strip()
    socket_error = detail.removeprefix("WebSocket error: ")
    if socket_error != detail:
        status = _HTTP_STATUS.search(socket_error)
        if status and int(status.group(1)) == _VERSION_MISMATCH:
            return (
                f"the browser server at {url} runs another Playwright version than this one"
                f" ({_playwright_version()}): run a server of the same major.minor version"
            )
        if status:
            return (
                f"the server at {url} is not a Playwright browser server"
                f" (HTTP {status.group(1)} {status.group(2).strip()}): give --browser-ws the"
                " ws:// address a `playwright run-server` prints"
            )
        # Refused, unresolvable, timed out, hung up, TLS spoken to a plain server: no answer.
        return f"the browser at {url} is unreachable: {socket_error}"
    if detail.startswith("Timeout") and "exceeded" in detail:
        return f"the browser at {url} did not answer in time ({detail})"
    if "Malformed endpoint" in detail:
        return (
            f"the server at {url} is a Playwright server that gives no browser"
            " (a debug or extension endpoint?): give --browser-ws a browser server's address"
        )
    return f"the browser server at {url} could not start its browser: {detail}"


def _playwright_version() -> str:
    return metadata.version("playwright")


def remote_browser_version(
    url: str,
    browser_name: str,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_CONNECT_TIMEOUT,
    launch_options: Mapping[str, Any] | None = None,
    expose_network: str | None = None,
    playwright: Playwright | None = None,
) -> str:
    """The version of the remote ``browser_name`` at ``url`` (e.g. ``156.0.8078.108``), for
    ``harness doctor``'s report and ``harness run``'s preflight. It connects (the remote side
    starts a browser, so this takes a second or two) and closes again; it starts its own
    Playwright unless given ``playwright``, which it must be inside a running Playwright
    (pytest-playwright's session fixture, say) or asyncio loop.

    :param browser_name: ``chromium``, ``firefox`` or ``webkit``, as pytest-playwright's
        ``--browser``.
    The other parameters are :class:`RemoteBrowser`'s.

    :raises RemoteBrowserError: as :meth:`RemoteBrowser.connect`, or a malformed ``url`` or
        an unknown ``browser_name``.
    """
    remote = RemoteBrowser(
        url,
        headers=dict(headers or {}),
        timeout=timeout,
        launch_options=launch_options,
        expose_network=expose_network,
    )
    if browser_name not in ("chromium", "firefox", "webkit"):
        raise RemoteBrowserError(f"unknown browser {browser_name!r}: chromium, firefox or webkit")
    if playwright is not None:
        return _version(remote.connect(getattr(playwright, browser_name)))
    with sync_playwright() as own:
        return _version(remote.connect(getattr(own, browser_name)))


def _version(browser: Browser) -> str:
    """``browser``'s version; closes it."""
    try:
        return browser.version
    finally:
        browser.close()
