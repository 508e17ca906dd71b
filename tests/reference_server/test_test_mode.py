"""Test mode (``--test-mode``): the banner, the start-up warning, and the ``/_test/`` hooks."""

from __future__ import annotations

import base64
import logging
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from werkzeug.test import TestResponse

from reference_server.cli import TEST_MODE_WARNING
from tests.reference_server.conftest import Flow
from tests.reference_server.test_server_cli import run, start_and_stop

RFC_SECRET = base64.b32encode(b"12345678901234567890").decode("ascii")
# RFC 6238 Appendix B, SHA-1, as the index's 6-digit codes (the last six digits).
RFC_CODE_AT = {59: "287082", 2000000000: "279037"}
HOOKS = ("/_test/totp-clock", "/_test/totp-secret", "/_test/clock")


def hook(app: Flask, path: str, remote_addr: str = "127.0.0.1", **body: object) -> TestResponse:
    """POST ``body`` as JSON to a hook, without a session or CSRF token, as the harness does."""
    return app.test_client().post(path, json=body, environ_base={"REMOTE_ADDR": remote_addr})


def set_clock(flow: Flow, time: int | None) -> None:
    assert hook(flow.app, "/_test/totp-clock", username=flow.username, time=time).status_code == 200


def seed(flow: Flow, secret: str = RFC_SECRET) -> None:
    response = hook(flow.app, "/_test/totp-secret", username=flow.username, secret=secret)
    assert response.status_code == 200, response.get_json()


def another_user(flow: Flow, name: str) -> Flow:
    """A second user of ``flow``'s server, set up as ``ready`` sets up the first."""
    other = Flow(flow.app, flow.clock, flow.mail)
    other.username, other.email = name, f"{name}@example.com"
    other.full_setup()
    return other


def log_in_with(flow: Flow, code: str) -> int:
    """Both login steps on a new client with ``code``; the status of the second step."""
    flow.new_client()
    return flow.submit_totp(flow.two_factor_url(flow.login()), code).status_code


@pytest.fixture
def ready(make_flow) -> Flow:
    """A user with TOTP enabled on a server in test mode, logged out."""
    flow = make_flow(test_mode=True)
    flow.full_setup()
    return flow


class TestOff:
    @pytest.mark.parametrize("path", HOOKS)
    def test_hooks_answer_exactly_as_an_unknown_route(self, app: Flask, path: str) -> None:
        unknown = app.test_client().post("/_test/no-such-hook", json={})
        response = hook(app, path, username="alice", time=59)
        assert response.status_code == unknown.status_code == 404
        assert response.get_data() == unknown.get_data()

    def test_pages_have_no_banner(self, app: Flask) -> None:
        assert 'id="test-mode-banner"' not in app.test_client().get("/").get_data(as_text=True)


class TestBanner:
    @pytest.mark.parametrize("path", ["/", "/account/login/", "/account/register/", "/nowhere"])
    def test_every_page_says_the_server_runs_in_test_mode(self, make_app, path: str) -> None:
        page = BeautifulSoup(make_app(test_mode=True).test_client().get(path).data, "html.parser")
        banner = page.find(id="test-mode-banner")
        assert banner is not None
        assert banner.get("role") == "status"
        assert "test mode" in banner.get_text().lower()


class TestCommandLine:
    def test_help_mentions_test_mode_and_the_harness(self) -> None:
        result = run("--help")
        assert "--test-mode" in result.stdout
        assert "harness only" in " ".join(result.stdout.split())

    @pytest.mark.parametrize("test_mode", [True, False], ids=["on", "off"])
    def test_test_mode_prints_one_warning_line_at_start(self, tmp_path: Path, test_mode) -> None:
        first_line, stderr = start_and_stop(tmp_path, *(["--test-mode"] if test_mode else []))
        assert first_line.startswith("reference-server listening on ")
        assert stderr.splitlines().count(TEST_MODE_WARNING) == (1 if test_mode else 0), stderr


class TestTotpClock:
    def test_published_code_is_accepted_at_the_users_test_time(self, ready: Flow) -> None:
        seed(ready)
        set_clock(ready, 59)
        assert log_in_with(ready, RFC_CODE_AT[59]) == 303

    def test_real_time_code_is_refused_while_the_users_clock_is_fixed(self, ready: Flow) -> None:
        set_clock(ready, 59)
        assert log_in_with(ready, ready.code()) == 200

    def test_another_users_totp_keeps_real_time(self, ready: Flow) -> None:
        bob = another_user(ready, "bob")
        seed(ready)
        set_clock(ready, 59)
        assert log_in_with(bob, bob.code()) == 303
        assert log_in_with(ready, RFC_CODE_AT[59]) == 303

    def test_null_puts_the_user_back_on_real_time(self, ready: Flow) -> None:
        set_clock(ready, 59)
        set_clock(ready, None)
        assert log_in_with(ready, ready.code()) == 303

    def test_a_code_accepted_at_a_test_time_is_refused_on_reuse(self, ready: Flow) -> None:
        seed(ready)
        set_clock(ready, 59)
        assert log_in_with(ready, RFC_CODE_AT[59]) == 303
        assert log_in_with(ready, RFC_CODE_AT[59]) == 200

    def test_provisioning_checks_the_code_at_the_users_test_time(self, make_flow) -> None:
        flow = make_flow(test_mode=True)
        assert flow.register().status_code == 303
        assert flow.verify_email().status_code == 303
        assert flow.burn(flow.generate_codes()[0]).status_code == 303
        # Ten steps ahead of the app clock, the code the app clock shows is out of sync.
        set_clock(flow, int(flow.clock.now) + 300)
        assert flow.provision_totp().status_code == 200
        set_clock(flow, int(flow.clock.now))
        assert flow.provision_totp().status_code == 303


class TestClock:
    def test_a_pending_login_link_dies_once_the_clock_passes_its_age(self, ready: Flow) -> None:
        url = ready.two_factor_url(ready.login())
        age = 300  # ServerConfig.two_factor_max_age
        assert hook(ready.app, HOOKS[2], offset=age + 1).get_json() == {"offset": age + 1}
        response = ready.submit_totp(url, ready.totp.at(ready.clock.now + age + 1))
        assert response.status_code == 303
        assert response.headers["Location"].startswith("/account/login/")

    def test_a_pending_login_link_works_until_its_age(self, ready: Flow) -> None:
        url = ready.two_factor_url(ready.login())
        assert hook(ready.app, HOOKS[2], offset=240).status_code == 200
        response = ready.submit_totp(url, ready.totp.at(ready.clock.now + 240))
        assert (response.status_code, response.headers["Location"]) == (303, "/")

    def test_offset_zero_is_real_time_again(self, ready: Flow) -> None:
        hook(ready.app, HOOKS[2], offset=3600)
        assert hook(ready.app, HOOKS[2], offset=0).get_json() == {"offset": 0}
        assert ready.login_with_totp().headers["Location"] == "/"


class TestSeedSecret:
    def test_seeding_restarts_the_replay_guard(self, ready: Flow) -> None:
        seed(ready)
        set_clock(ready, 2000000000)
        assert log_in_with(ready, RFC_CODE_AT[2000000000]) == 303
        seed(ready)
        set_clock(ready, 59)
        assert log_in_with(ready, RFC_CODE_AT[59]) == 303

    def test_the_seeded_secret_is_not_logged(self, ready: Flow, caplog) -> None:
        with caplog.at_level(logging.DEBUG):
            seed(ready)
        assert "replaced" in caplog.text
        assert RFC_SECRET not in caplog.text

    def test_unknown_user_gets_404(self, make_app) -> None:
        response = hook(make_app(test_mode=True), HOOKS[1], username="nobody", secret=RFC_SECRET)
        assert response.status_code == 404
        assert set(response.get_json()) == {"error"}

    def test_user_without_totp_gets_409(self, make_flow) -> None:
        flow = make_flow(test_mode=True)
        assert flow.register().status_code == 303
        response = hook(flow.app, HOOKS[1], username=flow.username, secret=RFC_SECRET)
        assert response.status_code == 409
        assert set(response.get_json()) == {"error"}


class TestRefusals:
    @pytest.mark.parametrize(
        ("path", "body"),
        [
            pytest.param(HOOKS[0], [], id="not-an-object"),
            pytest.param(HOOKS[0], {"username": "alice"}, id="missing-time"),
            pytest.param(HOOKS[0], {"username": "alice", "time": 59, "x": 1}, id="extra-field"),
            pytest.param(HOOKS[0], {"username": 7, "time": 59}, id="username-not-a-string"),
            pytest.param(HOOKS[0], {"username": "alice", "time": "59"}, id="time-a-string"),
            pytest.param(HOOKS[0], {"username": "alice", "time": 59.5}, id="time-a-float"),
            pytest.param(HOOKS[0], {"username": "alice", "time": True}, id="time-a-boolean"),
            pytest.param(HOOKS[0], {"username": "alice", "time": -1}, id="time-negative"),
            pytest.param(HOOKS[0], {"username": "alice", "time": 10**20}, id="time-huge"),
            pytest.param(HOOKS[1], {"username": "alice"}, id="missing-secret"),
            pytest.param(HOOKS[1], {"username": "alice", "secret": 12}, id="secret-a-number"),
            pytest.param(HOOKS[1], {"username": "alice", "secret": "1!"}, id="secret-not-base32"),
            pytest.param(HOOKS[1], {"username": "alice", "secret": "A"}, id="secret-bad-padding"),
            pytest.param(HOOKS[1], {"username": "alice", "secret": "AAAAAAAA"}, id="secret-short"),
            pytest.param(
                HOOKS[1], {"username": "alice", "secret": RFC_SECRET.lower()}, id="secret-lower"
            ),
            pytest.param(HOOKS[2], {}, id="missing-offset"),
            pytest.param(HOOKS[2], {"offset": "60"}, id="offset-a-string"),
            pytest.param(HOOKS[2], {"offset": 1.5}, id="offset-a-float"),
            pytest.param(HOOKS[2], {"offset": True}, id="offset-a-boolean"),
            pytest.param(HOOKS[2], {"offset": -60}, id="offset-negative"),
            pytest.param(HOOKS[2], {"offset": 10**9}, id="offset-too-far"),
        ],
    )
    def test_bad_input_gets_400_with_a_one_line_error(self, ready: Flow, path, body) -> None:
        response = ready.app.test_client().post(path, json=body)
        assert response.status_code == 400
        answer = response.get_json()
        assert set(answer) == {"error"}
        assert answer["error"] and "\n" not in answer["error"]

    def test_a_body_that_is_not_json_gets_400(self, ready: Flow) -> None:
        response = ready.app.test_client().post(HOOKS[0], data="username=alice&time=59")
        assert response.status_code == 400
        assert set(response.get_json()) == {"error"}

    @pytest.mark.parametrize("path", HOOKS)
    def test_a_client_off_loopback_gets_403(self, ready: Flow, path: str) -> None:
        response = hook(ready.app, path, "192.0.2.1")
        assert response.status_code == 403
        assert set(response.get_json()) == {"error"}
