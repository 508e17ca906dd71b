"""One second factor sent twice at once logs in once, on SQLite and on PostgreSQL.

Each race is run :data:`ROUNDS` times: two browsers of one user pass the password step, then
post the same TOTP code (or recovery code) at the same instant (a barrier releases both
threads). Exactly one may log in each round, and the database must show exactly one login per
round: no lost and no duplicated writes.

The requests go either to one app or to two apps sharing the database, as two server
processes behind a load balancer would. Either way nothing serialises them (the rate limits
take attempts one after another only near a limit, and these are far from theirs): only the
database's conditional update keeps the code single-use.

The twins turn one check off (``totp-replay``: the step is stored unconditionally;
``recovery-code-atomic-use``: the code found unused is burned unconditionally) and keep every
other check: one request at a time is still refused, since the winner's login voids the
loser's pending login (the last test shows it), so a second acceptance is seen only when the
two requests truly overlap. Seeing one shows that the races here are real, and that the same
assertions fail on a server that lets a code in twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from harness.client import at_once
from harness.services import temporary_database
from reference_server import create_app
from reference_server.models import Event, RecoveryCode, User
from reference_server.recovery_codes import generate, hash_code
from tests.reference_server.conftest import Clock, Flow, MemoryMailSender, csrf_of, fast_config

ROUNDS = 20
BACKENDS = ("sqlite", "postgresql")
# Every refused race counts as a failed second factor; the default limits would lock the
# user out after five rounds.
LIMITS = {
    "two_factor_user_limit": "10000 per minute",
    "two_factor_ip_limit": "10000 per minute",
    "login_user_limit": "10000 per minute",
    "login_ip_limit": "10000 per minute",
}

Servers = Callable[..., list[Flask]]
"""``servers(count, disabled_checks=())``: ``count`` apps on the test's one database."""


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database of the parameter's kind: a SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'races.sqlite3'}"
        return
    with temporary_database(request.getfixturevalue("postgresql"), prefix="races") as url:
        yield url


@pytest.fixture
def servers(
    database_url: str, tmp_path: Path, clock: Clock, mail: MemoryMailSender
) -> Iterator[Servers]:
    """Builds apps on the test's database (one clock, one mail sender); their engines are
    closed when the test ends."""
    apps: list[Flask] = []

    def build(count: int, disabled_checks: tuple[str, ...] = ()) -> list[Flask]:
        config = fast_config(
            tmp_path,
            database_url=database_url,
            test_mode=bool(disabled_checks),
            disabled_checks=frozenset(disabled_checks),
            **LIMITS,
        )
        made = [create_app(config, mail_sender=mail, clock=clock) for _ in range(count)]
        apps.extend(made)
        return made

    yield build
    for app in apps:
        app.extensions["reference_server.engine"].dispose()


class Race:
    """One user with TOTP and recovery codes, and two browsers of theirs on ``apps`` (the
    second browser on the last app)."""

    def __init__(self, apps: list[Flask], clock: Clock, mail: MemoryMailSender) -> None:
        self.apps = apps
        self.clock = clock
        self.flow = Flow(apps[0], clock, mail)
        self.flow.full_setup()
        self.last_step: int | None = None

    def browsers_at_second_factor(self) -> list[tuple[FlaskClient, str, str]]:
        """Two browsers past the password step: (client, two-factor URL, CSRF token) each.

        The clock then moves one second on, so that the first login to complete is later than
        both pending logins and voids the other's.
        """
        browsers = []
        for app in (self.apps[0], self.apps[-1]):
            client = self.flow.client = app.test_client()
            url = self.flow.two_factor_url(self.flow.login())
            browsers.append((client, url, csrf_of(client)))
        self.clock.advance(1)
        return browsers

    def totp_round(self) -> list[TestResponse]:
        """Both browsers post the current step's code at once (a fresh step each round)."""
        self.clock.advance(30)
        code = self.flow.code()
        self.last_step = int(self.clock.now // 30)
        return at_once(
            *(
                lambda c=client, u=url, t=token: c.post(
                    u, data={"csrf_token": t, "method": "totp", "totp_value": code}
                )
                for client, url, token in self.browsers_at_second_factor()
            )
        )

    def recovery_code_round(self) -> list[TestResponse]:
        """Both browsers post one unused recovery code at once (a new code each round)."""
        code = self.add_recovery_code()
        return at_once(
            *(
                lambda c=client, u=url, t=token: c.post(
                    u.replace("/account/two-factor/", "/account/recovery-code/"),
                    data={"csrf_token": t, "recovery_code_value": code},
                )
                for client, url, token in self.browsers_at_second_factor()
            )
        )

    def add_recovery_code(self) -> str:
        """Store one more unused recovery code for the user (a set has only eight)."""
        code = generate()[0]
        with self.session() as session:
            user_id = session.scalars(select(User.id).where(User.username == "alice")).one()
            session.add(
                RecoveryCode(user_id=user_id, code=hash_code(code), generated=self.clock.now)
            )
            session.commit()
        return code

    def count(self, tag: str) -> int:
        """How many events tagged ``tag`` the user has."""
        with self.session() as session:
            return session.scalar(select(func.count()).select_from(Event).where(Event.tag == tag))

    def session(self) -> Session:
        """A database session of its own (the caller closes it)."""
        return self.apps[0].extensions["reference_server.sessionmaker"]()


def logged_in(responses: list[TestResponse], home: str) -> int:
    """How many of the responses completed a login (303 to ``home``)."""
    return sum(r.status_code == 303 and r.headers.get("Location") == home for r in responses)


def assert_no_server_error(responses: list[TestResponse]) -> None:
    assert all(r.status_code < 500 for r in responses), [r.status_code for r in responses]


@pytest.mark.parametrize("app_count", [1, 2], ids=["one-app", "two-apps-one-database"])
class TestOneCodeTwiceAtOnce:
    def test_totp_code_logs_in_exactly_once_each_round(
        self, servers: Servers, clock: Clock, mail: MemoryMailSender, app_count: int
    ) -> None:
        race = Race(servers(app_count), clock, mail)
        before = race.count("account:login:success")
        winners = []
        for _ in range(ROUNDS):
            responses = race.totp_round()
            assert_no_server_error(responses)
            winners.append(logged_in(responses, "/"))
        assert winners == [1] * ROUNDS
        assert race.count("account:login:success") - before == ROUNDS
        with race.session() as session:
            step = session.scalars(select(User.last_totp_step)).one()
        assert step == race.last_step  # the last round's code's step is the one stored

    def test_recovery_code_logs_in_exactly_once_each_round(
        self, servers: Servers, clock: Clock, mail: MemoryMailSender, app_count: int
    ) -> None:
        race = Race(servers(app_count), clock, mail)
        before = race.count("account:recovery_codes:used")
        winners = []
        for _ in range(ROUNDS):
            responses = race.recovery_code_round()
            assert_no_server_error(responses)
            winners.append(logged_in(responses, "/manage/account/"))
        assert winners == [1] * ROUNDS
        assert race.count("account:recovery_codes:used") - before == ROUNDS
        with race.session() as session:
            burned = session.scalar(
                select(func.count())
                .select_from(RecoveryCode)
                .where(RecoveryCode.burned.is_not(None))
            )
        assert burned == 1 + ROUNDS  # the one burned at set-up, and each round's


class TestTheRaceTestsCanFail:
    """With the replay check off, overlapping requests let the same code in twice."""

    def test_totp_code_logs_in_twice_in_some_round_without_the_replay_check(
        self, servers: Servers, clock: Clock, mail: MemoryMailSender
    ) -> None:
        race = Race(servers(2, disabled_checks=("totp-replay",)), clock, mail)
        winners = [logged_in(race.totp_round(), "/") for _ in range(ROUNDS)]
        assert 2 in winners, winners

    def test_recovery_code_logs_in_twice_in_some_round_without_the_atomic_burn(
        self, servers: Servers, clock: Clock, mail: MemoryMailSender
    ) -> None:
        race = Race(servers(2, disabled_checks=("recovery-code-atomic-use",)), clock, mail)
        winners = [logged_in(race.recovery_code_round(), "/manage/account/") for _ in range(ROUNDS)]
        assert 2 in winners, winners

    def test_one_at_a_time_the_second_is_refused_even_without_the_replay_check(
        self, servers: Servers, clock: Clock, mail: MemoryMailSender
    ) -> None:
        race = Race(servers(1, disabled_checks=("totp-replay",)), clock, mail)
        race.clock.advance(30)
        code = race.flow.code()
        (first, url1, token1), (second, url2, token2) = race.browsers_at_second_factor()
        answers = [
            client.post(url, data={"csrf_token": token, "method": "totp", "totp_value": code})
            for client, url, token in ((first, url1, token1), (second, url2, token2))
        ]
        assert logged_in(answers, "/") == 1
        assert answers[1].headers.get("Location") == "/account/login/"
