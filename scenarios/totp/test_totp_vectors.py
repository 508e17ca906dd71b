"""The published RFC 4226 and RFC 6238 vectors: reproduced by the harness's own TOTP app, and
accepted at the login's TOTP step (the SHA-1 codes, each at its time).

The bundled server's test hooks seed the RFC's SHA-1 secret into a fresh TOTP account and
set that account's own TOTP clock to an Appendix B time. The index uses 6-digit codes: the
last six digits of an 8-digit RFC code are the 6-digit code of the same step, because the
truncation keeps the HMAC's value modulo 10^digits (RFC 4226 §5.3).
"""

from collections.abc import Callable

import pytest

from harness.accounts import TestAccount
from harness.client import HtmlPage, IndexClient
from harness.test_hooks import TestHooks
from virtual_authenticators.totp import TotpApp
from virtual_authenticators.totp_vectors import (
    RFC4226_HOTP,
    RFC4226_SECRET,
    RFC6238_SEEDS,
    RFC6238_TOTP,
    base32,
)

pytestmark = pytest.mark.protocol

RFC6238_SHA1_SECRET = base32(RFC6238_SEEDS["sha1"])
TIMES = sorted(RFC6238_TOTP)
INTERVAL = 30
LogIn = Callable[[int, str], HtmlPage]


def six_digits(time: int) -> str:
    """The index's 6-digit code for ``time``: the last six digits of the published one."""
    return RFC6238_TOTP[time]["sha1"][-6:]


def far_time(time: int) -> int:
    """The next Appendix B time after ``time`` (round the table) more than one step away.

    1111111109 and 1111111111 lie in neighbouring steps, so either's code passes at the other
    through the drift window: a code meant to be refused must come from further away.
    """
    later = TIMES[TIMES.index(time) + 1 :] + TIMES[: TIMES.index(time)]
    return next(other for other in later if abs(other // INTERVAL - time // INTERVAL) > 1)


def is_logged_in(client: IndexClient) -> bool:
    return client.get("/manage/account/").status == 200


@pytest.fixture
def rfc_account(make_account, test_hooks: TestHooks) -> TestAccount:
    """A fresh, logged-out TOTP account whose secret is RFC 6238's SHA-1 seed.

    Fresh per test, so that the per-user login and second-factor limits never add up.
    """
    account = make_account(totp=True)
    test_hooks.seed_totp_secret(account.username, RFC6238_SHA1_SECRET)
    account.totp = TotpApp(RFC6238_SHA1_SECRET)
    return account


@pytest.fixture
def log_in_at(rfc_account: TestAccount, client: IndexClient, totp_clock) -> LogIn:
    """Logs ``rfc_account`` in on ``client`` with a code, its TOTP clock set to a time."""

    def log_in(time: int, code: str) -> HtmlPage:
        totp_clock(rfc_account.username, time)
        return client.log_in_with_totp(rfc_account.username, rfc_account.password, code)

    return log_in


class TestRfc6238Vectors:
    @pytest.mark.requirement("TOTP-VECTORS-01")
    @pytest.mark.parametrize("time", TIMES, ids=lambda time: f"{time}s")
    def test_published_code_is_accepted_at_its_time(self, log_in_at, client, time) -> None:
        assert log_in_at(time, six_digits(time)).status == 303
        assert is_logged_in(client)

    @pytest.mark.requirement("TOTP-VECTORS-01")
    @pytest.mark.parametrize("time", TIMES, ids=lambda time: f"{time}s")
    def test_published_code_of_another_time_is_refused(self, log_in_at, client, time) -> None:
        page = log_in_at(time, six_digits(far_time(time)))
        assert page.status == 200
        assert page.errors("totp")
        assert not is_logged_in(client)


class TestHarnessTotpApp:
    """The harness's own app, set up as the harness sets up every app, reproduces the tables
    exactly: a check of the harness itself, so that its codes can be trusted."""

    @pytest.mark.requirement("TOTP-VECTORS-02")
    @pytest.mark.parametrize(("counter", "code"), list(enumerate(RFC4226_HOTP)), ids=str)
    def test_app_at_counter_steps_shows_the_rfc4226_hotp_values(self, counter, code) -> None:
        # A TOTP code is the HOTP code of counter time // 30 (RFC 6238 §4.2).
        app = TotpApp(base32(RFC4226_SECRET), clock=lambda: counter * INTERVAL)
        assert app.current() == code

    @pytest.mark.requirement("TOTP-VECTORS-02")
    @pytest.mark.parametrize(
        ("algorithm", "time"),
        [(algorithm, time) for time in TIMES for algorithm in RFC6238_SEEDS],
        ids=lambda value: str(value),
    )
    def test_app_from_a_provisioning_uri_shows_the_rfc6238_values(self, algorithm, time) -> None:
        uri = (
            f"otpauth://totp/RFC6238:vectors?secret={base32(RFC6238_SEEDS[algorithm])}"
            f"&issuer=RFC6238&algorithm={algorithm.upper()}&digits=8&period={INTERVAL}"
        )
        assert TotpApp.from_uri(uri, clock=lambda: time).current() == RFC6238_TOTP[time][algorithm]
