"""Figure 3, the harness's overhead per protocol scenario against bare ``requests``.

The scenario is a complete login of a TOTP account: open the login page, post the password
with its CSRF token, open the two-factor page the answer redirects to, post the code with its
CSRF token; the server answers 303 to the index. The harness does it with a fresh
``Target.client()`` (``IndexClient``: every request an Allure step, BeautifulSoup parsing of
each form, secrets registered for masking) and ``log_in_with_totp``; the bare script with a
fresh ``requests.Session``, a regular expression for the token and the same four requests.
Both run in this process against one bundled server, alternating, after a warm-up of each;
before every login the account's TOTP clock is moved a step on (a test-hook request, outside
the timed part), so that codes are never replays.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import pyotp
import requests

from benchmarks.figures import PROTOCOL_OVERHEAD_TARGET, Figure, median, ratio
from benchmarks.server import TotpAccount, TotpClock, bundled_target, make_totp_accounts
from harness.targets import Target

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class ProtocolFigures:
    repetitions: int
    harness_seconds: float | None
    bare_seconds: float | None

    @property
    def overhead(self) -> float | None:
        return ratio(self.harness_seconds, self.bare_seconds)

    def figures(self) -> list[Figure]:
        how = f"median of {self.repetitions} logins each, alternating, after one warm-up each"
        return [
            Figure(
                "protocol login scenario, harness (IndexClient.log_in_with_totp)",
                self.harness_seconds,
                "s",
                how,
            ),
            Figure("protocol login scenario, bare requests", self.bare_seconds, "s", how),
            Figure(
                "harness overhead per protocol scenario",
                self.overhead,
                "x",
                "harness median ÷ bare median",
                PROTOCOL_OVERHEAD_TARGET,
            ),
        ]


def harness_login(target: Target, account: TotpAccount, code: str) -> None:
    page = target.client().log_in_with_totp(account.username, account.password, code)
    if page.status != 303:
        raise RuntimeError(f"harness login answered {page.status}")


def bare_login(base_url: str, account: TotpAccount, code: str) -> None:
    with requests.Session() as http:
        login = http.get(f"{base_url}/account/login/", timeout=30)
        token = _CSRF.search(login.text)
        assert token is not None, "no CSRF token on the login page"
        answer = http.post(
            f"{base_url}/account/login/",
            data={
                "csrf_token": token.group(1),
                "username": account.username,
                "password": account.password,
            },
            allow_redirects=False,
            timeout=30,
        )
        location = answer.headers.get("Location", "")
        if answer.status_code != 303 or not location.startswith("/account/two-factor/"):
            raise RuntimeError(f"bare password step answered {answer.status_code}")
        two_factor = http.get(base_url + location, timeout=30)
        token = _CSRF.search(two_factor.text)
        assert token is not None, "no CSRF token on the two-factor page"
        done = http.post(
            base_url + location,
            data={"csrf_token": token.group(1), "method": "totp", "totp_value": code},
            allow_redirects=False,
            timeout=30,
        )
        if done.status_code != 303:
            raise RuntimeError(f"bare TOTP step answered {done.status_code}")


def measure(repetitions: int = 20) -> ProtocolFigures:
    with bundled_target() as target:
        harness_account, bare_account = make_totp_accounts(target, 2)
        clock = TotpClock(target, int(time.time()) + 3600)
        harness_times: list[float] = []
        bare_times: list[float] = []
        for index in range(repetitions + 1):
            for account, times, login in (
                (harness_account, harness_times, lambda a, c: harness_login(target, a, c)),
                (bare_account, bare_times, lambda a, c: bare_login(target.base_url, a, c)),
            ):
                code = pyotp.TOTP(account.secret).at(clock.next_time(account.username))
                start = time.perf_counter()
                login(account, code)
                elapsed = time.perf_counter() - start
                if index > 0:  # the first of each is a warm-up
                    times.append(elapsed)
    return ProtocolFigures(repetitions, median(harness_times), median(bare_times))
