"""A browser on a grid: a real Playwright browser server on localhost, reached by ``connect``."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import metadata

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Playwright

from harness.errors import HarnessError
from harness.remote_browser import (
    RemoteBrowser,
    RemoteBrowserError,
    check_ws_url,
    describe_failure,
    local_launch_options,
    remote_browser_version,
)

TITLE = "through the grid"
# The server launches its browser with this user agent only if our launch options reached it,
# which a browser launched on this side would not have.
USER_AGENT = "harness-remote-browser-test"
SERVER_START_TIMEOUT = 30
SERVER_STOP_TIMEOUT = 10
# Port 0: the server picks a free one and prints it. --unsafe lets it take executablePath and
# args from the client, which it needs here to start Debian's Chromium.
RUN_SERVER = ["-m", "playwright", "run-server", "--port=0", "--host=127.0.0.1", "--unsafe"]


def problem_of(url: str, browser_name: str, **options) -> str | None:
    """The one-line problem :func:`remote_browser_version` raises for this remote browser, or
    None when it connects."""
    try:
        remote_browser_version(url, browser_name, **options)
    except HarnessError as error:
        return str(error)
    return None


@pytest.fixture(scope="module")
def playwright_server() -> Iterator[str]:
    """A Playwright browser server on localhost (the driver's ``run-server``); its ws:// URL."""
    server = subprocess.Popen(
        [sys.executable, *RUN_SERVER],
        stdout=subprocess.PIPE,
        text=True,
        # `python -m playwright` runs Node as a child: its own group lets us end both.
        start_new_session=True,
    )
    try:
        url = _listening_url(server)
        yield url
    finally:
        _end_group(server)


def _end_group(server: subprocess.Popen[str]) -> None:
    """End the server's process group: Python's launcher and Node, which can outlive it."""
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=SERVER_STOP_TIMEOUT)
    deadline = time.monotonic() + SERVER_STOP_TIMEOUT
    while time.monotonic() < deadline:
        try:
            os.killpg(server.pid, 0)  # only asks whether the group has a process left
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        with contextlib.suppress(ProcessLookupError):  # it may end between the two calls
            os.killpg(server.pid, signal.SIGKILL)
    assert server.stdout is not None
    server.stdout.close()


def _listening_url(server: subprocess.Popen[str]) -> str:
    """The URL from the server's ``Listening on ws://…`` line."""
    found: list[str] = []

    def read() -> None:
        assert server.stdout is not None
        for line in server.stdout:
            if line.startswith("Listening on "):
                found.append(line.removeprefix("Listening on ").strip())
                return

    # A thread, since a pipe read has no timeout of its own.
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(SERVER_START_TIMEOUT)
    if not found:
        raise RuntimeError(f"playwright run-server did not start (exit code {server.poll()})")
    return found[0]


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"<!doctype html><title>{TITLE}</title><p>ok</p>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep the test's output to its own


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """A one-page site on this machine's ``localhost``: what a bundled target looks like."""
    server = ThreadingHTTPServer(("localhost", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A ws:// URL on localhost whose port is bound but not listening: refused for sure."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield f"ws://127.0.0.1:{held.getsockname()[1]}/"


@pytest.fixture
def launch_options(playwright: Playwright) -> dict:
    """What the server on this machine needs to start Chromium, plus the telltale user agent."""
    options = local_launch_options(playwright.chromium)
    return {**options, "args": [*options.get("args", []), f"--user-agent={USER_AGENT}"]}


class TestConnect:
    def test_a_page_on_localhost_opens_in_the_remote_browser(
        self, playwright: Playwright, playwright_server: str, site: str, launch_options: dict
    ) -> None:
        remote = RemoteBrowser(playwright_server, launch_options=launch_options, timeout=30)
        browser = remote.connect(playwright.chromium)
        try:
            page = browser.new_page()
            page.goto(site)
            assert page.title() == TITLE
            assert page.evaluate("navigator.userAgent") == USER_AGENT
        finally:
            browser.close()

    def test_a_grid_reaches_this_machines_localhost_only_through_the_exposed_network(
        self, playwright: Playwright, playwright_server: str, site: str, launch_options: dict
    ) -> None:
        # The remote browser's own `localhost` made unresolvable stands for a grid on another
        # machine, where `localhost` is not where the bundled server listens.
        elsewhere = {
            **launch_options,
            "args": [*launch_options["args"], "--host-resolver-rules=MAP localhost ~NOTFOUND"],
        }
        for expose_network, reached in ((None, False), ("<loopback>", True)):
            remote = RemoteBrowser(
                playwright_server, launch_options=elsewhere, expose_network=expose_network
            )
            browser = remote.connect(playwright.chromium)
            try:
                page = browser.new_page()
                if reached:
                    page.goto(site)
                    assert page.title() == TITLE
                else:
                    with pytest.raises(PlaywrightError, match="ERR_NAME_NOT_RESOLVED"):
                        page.goto(site, timeout=10_000)
            finally:
                browser.close()

    def test_a_working_remote_browser_has_no_problem(
        self, playwright: Playwright, playwright_server: str, launch_options: dict
    ) -> None:
        problem = problem_of(
            playwright_server, "chromium", launch_options=launch_options, playwright=playwright
        )
        assert problem is None

    def test_launch_options_travel_in_the_header_in_playwrights_javascript_names(
        self, playwright: Playwright
    ) -> None:
        remote = RemoteBrowser(
            "wss://grid.example/pw",
            headers={"Authorization": "Bearer t"},
            timeout=5,
            launch_options={"executablePath": "/usr/bin/chromium", "args": ["--no-sandbox"]},
        )
        kwargs = remote.connect_kwargs()
        assert kwargs["endpoint"] == "wss://grid.example/pw"
        assert kwargs["timeout"] == 5000
        assert kwargs["headers"]["Authorization"] == "Bearer t"
        assert json.loads(kwargs["headers"]["x-playwright-launch-options"]) == {
            "executablePath": "/usr/bin/chromium",
            "args": ["--no-sandbox"],
        }
        assert "expose_network" not in kwargs
        for key in local_launch_options(playwright.chromium):
            assert "_" not in key


class TestProblems:
    def test_an_unreachable_endpoint_is_one_line(
        self, playwright: Playwright, refused_url: str
    ) -> None:
        problem = problem_of(refused_url, "chromium", timeout=10, playwright=playwright)
        assert problem == (
            f"the browser at {refused_url} is unreachable:"
            f" connect ECONNREFUSED {refused_url.removeprefix('ws://').rstrip('/')}"
        )

    def test_a_server_that_is_not_playwrights_is_named_so(
        self, playwright: Playwright, site: str
    ) -> None:
        url = site.replace("http://", "ws://") + "/"
        problem = problem_of(url, "chromium", timeout=10, playwright=playwright)
        assert problem is not None
        assert problem.startswith(
            f"the server at {url} is not a Playwright browser server (HTTP 200 OK)"
        )
        assert "\n" not in problem

    def test_a_browser_that_does_not_start_there_is_one_line(
        self, playwright: Playwright, playwright_server: str, tmp_path: pytest.TempPathFactory
    ) -> None:
        missing = {"executablePath": f"{tmp_path}/no-chromium"}
        problem = problem_of(
            playwright_server, "chromium", launch_options=missing, playwright=playwright
        )
        assert problem is not None
        assert problem.startswith(
            f"the browser server at {playwright_server} could not start its browser:"
        )
        assert "\n" not in problem

    @pytest.mark.parametrize(
        ("message", "problem"),
        [
            (
                "BrowserType.connect: WebSocket error: ws://grid:3000/ 428 Precondition Required"
                "\nCall log:\n  - <ws unexpected response> ws://grid:3000/ 428",
                "the browser server at ws://grid:3000/ runs another Playwright version than this"
                f" one ({metadata.version('playwright')}): run a server of the same major.minor"
                " version",
            ),
            (
                "BrowserType.connect: Timeout 5000ms exceeded",
                "the browser at ws://grid:3000/ did not answer in time (Timeout 5000ms exceeded)",
            ),
        ],
    )
    def test_what_cannot_be_staged_on_localhost_is_described_in_one_line(
        self, message: str, problem: str
    ) -> None:
        assert describe_failure("ws://grid:3000/", PlaywrightError(message)) == problem

    @pytest.mark.parametrize(
        ("url", "problem"),
        [
            (
                "http://localhost:3000/",
                "--browser-ws must be a ws:// or wss:// URL of a Playwright server,"
                " not 'http://localhost:3000/'",
            ),
            (
                "localhost:3000",
                "--browser-ws must be a ws:// or wss:// URL of a Playwright server,"
                " not 'localhost:3000'",
            ),
            ("ws:///path", "--browser-ws 'ws:///path' names no host"),
            ("ws://localhost:99999/", "--browser-ws 'ws://localhost:99999/' is not a URL:*"),
        ],
    )
    def test_a_malformed_url_is_refused_in_one_line_before_connecting(
        self, url: str, problem: str
    ) -> None:
        found = check_ws_url(url)
        assert found is not None
        assert "\n" not in found
        if problem.endswith("*"):
            assert found.startswith(problem.removesuffix("*"))
        else:
            assert found == problem
        # No Playwright is given or started: the form alone refuses it.
        assert problem_of(url, "chromium") == found
        with pytest.raises(RemoteBrowserError, match=r"^--browser-ws "):
            RemoteBrowser(url)


def _conftest(remote: str) -> str:
    """A conftest that registers the plugin object as harness/plugin.py will with --browser-ws:
    after the harness's own plugin, so that its fixtures are the ones used."""
    return f"""
import pytest

from harness.remote_browser import RemoteBrowser

@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    config.pluginmanager.register({remote}.plugin(), "harness.remote-browser")
"""


class TestPlugin:
    def test_a_pytest_run_gets_its_browser_from_the_grid(
        self,
        pytester: pytest.Pytester,
        monkeypatch: pytest.MonkeyPatch,
        playwright_server: str,
        site: str,
        launch_options: dict,
    ) -> None:
        # No Chromium on this side's PATH: the run must not look for a local browser at all.
        monkeypatch.setenv("PATH", str(pytester.path / "no-browsers-here"))
        remote = f"RemoteBrowser({playwright_server!r}, launch_options={launch_options!r})"
        pytester.makeconftest(_conftest(remote))
        pytester.makepyfile(
            f"""
            def test_page(page, browser_type_launch_args, connect_options):
                assert connect_options["endpoint"] == {playwright_server!r}
                assert browser_type_launch_args == {{}}
                page.goto({site!r})
                assert page.title() == {TITLE!r}
                assert page.evaluate("navigator.userAgent") == {USER_AGENT!r}
            """
        )
        result = pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "-W", "error::pytest.PytestRemovedIn10Warning"
        )
        result.assert_outcomes(passed=1)
        assert "warning" not in result.stdout.str()

    def test_a_run_with_an_unreachable_grid_ends_in_one_line(
        self, pytester: pytest.Pytester, refused_url: str
    ) -> None:
        pytester.makepyfile("def test_page(page):\n    pass\n")
        result = pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", f"--browser-ws={refused_url}"
        )
        assert result.ret == 2
        output = result.stdout.str() + result.stderr.str()
        assert f"harness: the browser at {refused_url} is unreachable: connect ECONNREFUSED" in (
            output
        )
        assert "Traceback" not in output

    def test_a_malformed_browser_ws_is_a_usage_error_in_one_line(
        self, pytester: pytest.Pytester
    ) -> None:
        pytester.makepyfile("def test_page(page):\n    pass\n")
        result = pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "--browser-ws=http://grid/"
        )
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        assert (
            "ERROR: --browser-ws must be a ws:// or wss:// URL of a Playwright server,"
            " not 'http://grid/'" in result.stderr.str()
        )
