"""The pacer keeps a run's logins under a staging server's per-address limits by pausing."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from typing import ClassVar

import pytest

from harness.client import IndexClient
from harness.pacing import Pacer


@pytest.mark.parametrize(
    ("method", "path", "kind"),
    [
        ("POST", "/account/login/", "login"),
        ("POST", "/account/two-factor/", "two_factor"),
        ("POST", "/account/recovery-code/", "two_factor"),
        ("POST", "/account/webauthn-authenticate/validate", "two_factor"),
        ("GET", "/account/login/", None),
        ("POST", "/account/register/", None),
    ],
)
def test_attempts_are_told_apart_by_method_and_path(
    method: str, path: str, kind: str | None
) -> None:
    assert Pacer.kind_of(method, path) == kind


def test_attempts_within_the_limit_are_not_held_back() -> None:
    waits: list[float] = []
    pacer = Pacer({"login": "3 per minute"}, sleep=waits.append)
    for _ in range(3):
        pacer.before("login")
    assert waits == []


def test_an_attempt_beyond_the_limit_waits_for_the_window() -> None:
    pacer = Pacer({"login": "2 per 1 second"})
    started = time.monotonic()
    for _ in range(3):
        pacer.before("login")
    assert time.monotonic() - started >= 1.0


def test_unpaced_attempts_count_so_the_next_paced_one_waits() -> None:
    pacer = Pacer({"two_factor": "2 per 1 second"})
    with pacer.unpaced():
        started = time.monotonic()
        for _ in range(4):
            pacer.before("two_factor")
        assert time.monotonic() - started < 0.5
    pacer.before("two_factor")
    assert time.monotonic() - started >= 1.0


def test_kinds_are_limited_apart() -> None:
    waits: list[float] = []
    pacer = Pacer({"login": "1 per minute", "two_factor": "1 per minute"}, sleep=waits.append)
    pacer.before("login")
    pacer.before("two_factor")
    assert waits == []


def test_an_unknown_kind_of_attempt_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown kinds of attempt: upload"):
        Pacer({"upload": "1 per minute"})


class CountingHandler(http.server.BaseHTTPRequestHandler):
    arrivals: ClassVar[list[float]] = []

    def do_POST(self) -> None:
        self.arrivals.append(time.monotonic())
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("localhost", 0), CountingHandler)
    CountingHandler.arrivals = []
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://localhost:{httpd.server_address[1]}"
    httpd.shutdown()


def test_a_paced_client_spaces_its_logins_out(server: str) -> None:
    client = IndexClient(server, pacer=Pacer({"login": "2 per 1 second"}))
    for _ in range(3):
        client.request("POST", "/account/login/")
    first, _, third = CountingHandler.arrivals
    assert third - first >= 1.0
