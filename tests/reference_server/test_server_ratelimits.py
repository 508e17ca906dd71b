"""Rate-limited attempts run in parallel, yet parallel failures never overshoot a limit.

:meth:`RateLimits.attempt` reserves a place under each limit it checks instead of holding one
lock for the whole server. These tests hold both halves of its guarantee: attempts of two
users are inside their verification at the same moment (a barrier that a single lock would
break), and any number of simultaneous failures on one key count no more than its limit,
with every attempt past the limit refused. Near a limit, an attempt waits for those in flight
rather than being refused while the limit is not yet reached.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from harness.client import at_once
from reference_server import create_app
from reference_server.passwords import Passwords
from reference_server.ratelimits import Attempt, Check, RateLimits
from tests.reference_server.conftest import (
    PASSWORD,
    Clock,
    Flow,
    MemoryMailSender,
    csrf_of,
    fast_config,
)

# Long enough for a thread that is not blocked to arrive; a thread held by a lock never does.
MEET_TIMEOUT = 5.0


def login_checks(limits: RateLimits, user: str) -> tuple[Check, ...]:
    """The pairs the login view checks, from one address."""
    return (
        (limits.login_global, "global"),
        (limits.login_ip, "127.0.0.1"),
        (limits.login_user, user),
    )


def test_attempts_of_two_users_are_in_flight_at_the_same_time(tmp_path: Path) -> None:
    limits = RateLimits(fast_config(tmp_path))
    both_inside = threading.Barrier(2, timeout=MEET_TIMEOUT)

    def attempt(user: str) -> int | None:
        with limits.attempt(*login_checks(limits, user)) as attempt:
            both_inside.wait()  # BrokenBarrierError unless the other is inside too
            return attempt.retry_after

    assert at_once(lambda: attempt("alice"), lambda: attempt("bob")) == [None, None]


def test_simultaneous_failures_count_no_more_than_the_limit(tmp_path: Path) -> None:
    limits = RateLimits(fast_config(tmp_path, login_user_limit="3 per 5 minutes"))

    def fail() -> bool:
        with limits.attempt(*login_checks(limits, "alice")) as attempt:
            if attempt.retry_after is not None:
                return False
            time.sleep(0.05)  # a verification, long enough for the others to pile up
            attempt.count()
            return True

    assert at_once(*[fail] * 10).count(True) == 3
    assert limits.login_user.exceeded("alice") is not None


def test_near_the_limit_an_attempt_waits_for_the_one_in_flight(tmp_path: Path) -> None:
    limits = RateLimits(fast_config(tmp_path, login_user_limit="2 per 5 minutes"))
    checks = login_checks(limits, "alice")
    limits.hit(*checks)  # one failure: room for one attempt in flight
    first_inside, first_may_end = threading.Event(), threading.Event()
    second: list[Attempt] = []

    def first(fails: bool) -> None:
        with limits.attempt(*checks) as attempt:
            assert attempt.retry_after is None
            first_inside.set()
            first_may_end.wait(MEET_TIMEOUT)
            if fails:
                attempt.count()

    def second_attempt() -> None:
        with limits.attempt(*checks) as attempt:
            second.append(attempt)

    for fails, refused in ((False, False), (True, True)):
        first_inside.clear()
        first_may_end.clear()
        second.clear()
        threads = [threading.Thread(target=first, args=(fails,))]
        threads[0].start()
        assert first_inside.wait(MEET_TIMEOUT)
        threads.append(threading.Thread(target=second_attempt))
        threads[1].start()
        time.sleep(0.2)
        assert second == [], "the second attempt went ahead while its failure could overshoot"
        first_may_end.set()
        for thread in threads:
            thread.join(MEET_TIMEOUT)
        # A first attempt that succeeds leaves room: the second goes ahead. One that fails
        # fills the limit: the second is refused, as it would be one after the other.
        assert (second[0].retry_after is not None) == refused


@pytest.fixture
def two_users(tmp_path: Path, clock: Clock, mail: MemoryMailSender) -> Flask:
    """An app with alice and bob registered and logged out; the per-user login limit 3."""
    config = fast_config(
        tmp_path,
        login_user_limit="3 per 5 minutes",
        login_ip_limit="1000 per 5 minutes",
    )
    app = create_app(config, mail_sender=mail, clock=clock)
    app.testing = True
    for name in ("alice", "bob"):
        flow = Flow(app, clock, mail)
        flow.username, flow.email = name, f"{name}@example.com"
        assert flow.register().status_code == 303
        flow.logout()
    return app


def login_post(app: Flask, username: str, password: str) -> Callable[[], int]:
    """A new browser's login form, ready to be posted: the call returns the status."""
    client: FlaskClient = app.test_client()
    token = csrf_of(client)

    def post() -> int:
        data = {"csrf_token": token, "username": username, "password": password}
        return client.post("/account/login/", data=data).status_code

    return post


def test_simultaneous_wrong_passwords_never_pass_the_users_limit(two_users: Flask) -> None:
    statuses = at_once(*[login_post(two_users, "alice", "wrong password!") for _ in range(8)])
    assert sorted(statuses) == [200] * 3 + [429] * 5
    assert login_post(two_users, "alice", PASSWORD)() == 429
    assert login_post(two_users, "bob", PASSWORD)() == 303  # another user's limit is apart


def test_two_users_passwords_are_verified_at_the_same_time(
    two_users: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    passwords: Passwords = two_users.extensions["reference_server.passwords"]
    verify = passwords.verify
    both_verifying = threading.Barrier(2, timeout=MEET_TIMEOUT)

    def verify_together(password_hash: str | None, password: str) -> bool:
        both_verifying.wait()  # BrokenBarrierError unless the other is verifying too
        return verify(password_hash, password)

    monkeypatch.setattr(passwords, "verify", verify_together)
    posts = [login_post(two_users, name, PASSWORD) for name in ("alice", "bob")]
    assert at_once(*posts) == [303, 303]
