"""The load journeys: complete logins with a second factor, each request timed as a step of
its own. No Locust here: :mod:`harness.load.journeys` runs these under Locust and hands each
step to its statistics, and the tests run them in process.

A journey is what one person does: open the login page, send the password, answer the second
factor, log out. The rules a real server enforces are kept, so that a failure in the report
is the server's and not the load's:

- a TOTP code is accepted once per time step per account (RFC 6238 §5.2): a user takes a
  TOTP journey at most once per step, taking its other journeys meanwhile, or waiting for the
  next step when TOTP is its only journey;
- each recovery code works once: the user spends them in turn and, after the last, generates
  new ones (re-entering the password when the server asks), timed as a step of its own;
- a security key's counter rises with every assertion, and each key belongs to one user.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from harness.client import (
    RECOVERY_CODE_FORM,
    TOTP_FORM,
    HtmlPage,
    IndexClient,
    JsonAnswer,
    warehouse_credential,
)
from harness.errors import ContractMismatch
from harness.load.users import LoadAccount, restore_key
from harness.redaction import Secret
from harness.safety import production_refusal
from virtual_authenticators.totp import TotpApp

JOURNEYS = ("totp", "recovery-code", "webauthn")
"""The journeys ``harness load --journeys`` names."""

_LOGIN = ("login page", "password")
_LOGOUT = ("logout page", "log out")
STEPS: dict[str, tuple[str, ...]] = {
    "totp": (*_LOGIN, "two-factor page", "code", *_LOGOUT),
    "recovery-code": (*_LOGIN, "recovery-code page", "code", "regenerate codes", *_LOGOUT),
    "webauthn": (*_LOGIN, "options", "two-factor page", "assertion", *_LOGOUT),
}
"""Each journey's steps, in order; each is one request, but ``regenerate codes`` (the codes
page, the password re-entry it asks for, the new codes)."""
OCCASIONAL_STEPS = frozenset({"recovery-code: regenerate codes"})
"""Steps a journey takes only sometimes: new recovery codes once the last one is spent."""

_URL_QUERY = re.compile(r"\?[^\s'\"()<>]*")
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def step_name(journey: str, step: str) -> str:
    """The name a step has in the statistics: ``"totp: code"``."""
    return f"{journey}: {step}"


def step_names(journeys: Sequence[str] = JOURNEYS) -> list[str]:
    """Every step of ``journeys``, in journey order then step order."""
    return [step_name(journey, step) for journey in journeys for step in STEPS[journey]]


@dataclass(frozen=True)
class StepResult:
    """One timed step: its name, HTTP method, seconds, bytes received, and error (None when it
    did what the contract says)."""

    name: str
    method: str
    seconds: float
    length: int
    error: str | None = None


class StepFailed(Exception):
    """A step did not answer as the contract says; the journey stops there."""


Record = Callable[[StepResult], None]


class LoadUser:
    """One simulated person: one account, its authenticators, and its journeys in turn.

    :param base_url: the target's root URL.
    :param account: the user's :class:`~harness.load.users.LoadAccount`, its alone.
    :param journeys: the journeys it takes, in turn.
    :param record: receives every step, failed or not.
    :param webauthn_encoding: how the target's pages read WebAuthn options.
    :param clock: the TOTP app's clock; ``sleep`` waits for the next TOTP step.
    """

    def __init__(
        self,
        base_url: str,
        account: LoadAccount,
        journeys: Sequence[str],
        record: Record,
        *,
        webauthn_encoding: str = "base64url",
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        refusal = production_refusal(base_url)
        if refusal is not None:
            raise ValueError(refusal)
        self.base_url = base_url.rstrip("/")
        self.account = account
        self.journeys = tuple(journeys)
        self.record = record
        self.webauthn_encoding = webauthn_encoding
        self.sleep = sleep
        self.totp = (
            None if account.totp_secret is None else TotpApp(account.totp_secret, clock=clock)
        )
        self.key = None if account.security_key is None else restore_key(account.security_key)
        self.codes: list[str] = list(account.recovery_codes)
        self._secrets = account.secrets()
        self._turn = 0
        self._last_totp_step: int | None = None

    def next_journey(self) -> str:
        """The journey to take now: the next in turn, skipping TOTP while its code of this time
        step is spent; when TOTP is the only journey, wait for the next step."""
        for _ in range(len(self.journeys)):
            journey = self.journeys[self._turn % len(self.journeys)]
            self._turn += 1
            if journey != "totp" or not self._totp_step_spent():
                return journey
        assert self.totp is not None
        self.sleep(self.totp.seconds_left_in_step() + 0.05)
        return "totp"

    def take(self, journey: str) -> bool:
        """Take ``journey`` once on a fresh session; whether every step succeeded. Each step
        goes to :attr:`record`; the first that fails ends the journey.

        :raises KeyError: ``journey`` is not one of :data:`JOURNEYS`.
        """
        second_factor = {
            "totp": self._totp,
            "recovery-code": self._recovery_code,
            "webauthn": self._webauthn,
        }[journey]
        client = IndexClient(self.base_url, webauthn_encoding=self.webauthn_encoding)
        try:
            second_factor(client, self._log_in_with_password(client, journey))
            self._log_out(client, journey)
        except StepFailed:
            return False
        finally:
            client.http.close()
        return True

    def _totp_step_spent(self) -> bool:
        return self.totp is not None and self._last_totp_step == self.totp.step()

    @contextmanager
    def step(self, journey: str, step: str, method: str) -> Iterator[list[int]]:
        """Time the block as the step ``journey: step``; the block appends the bytes it
        received to the list it is given. Any error the block raises is recorded, with the
        account's secrets and URL queries (login tokens) removed, and ends the journey."""
        received: list[int] = []
        started = time.perf_counter()
        try:
            yield received
        except Exception as error:
            message = self._clean(_describe(error))
            self.record(
                StepResult(
                    step_name(journey, step),
                    method,
                    time.perf_counter() - started,
                    sum(received),
                    message,
                )
            )
            raise StepFailed(message) from None
        self.record(
            StepResult(
                step_name(journey, step), method, time.perf_counter() - started, sum(received)
            )
        )

    def _clean(self, message: str) -> str:
        for secret in self._secrets:
            message = message.replace(secret, "***")
        return _ADDRESS.sub("", _URL_QUERY.sub("?…", message))

    def _log_in_with_password(self, client: IndexClient, journey: str) -> str:
        with self.step(journey, "login page", "GET") as received:
            page = _expect(client.get("/account/login/"), 200, received, "form:has(#password)")
        with self.step(journey, "password", "POST") as received:
            answer = client.submit_page(
                page,
                "form:has(#password)",
                username=self.account.username,
                password=self.account.password,
            )
            _expect(answer, 303, received)
            if not answer.location.startswith("/account/two-factor/?"):
                raise ContractMismatch(
                    f"the password step sent the browser to {_path(answer.location)},"
                    " not /account/two-factor/"
                )
        return Secret(answer.location)

    def _totp(self, client: IndexClient, two_factor_url: str) -> None:
        assert self.totp is not None, "a TOTP journey needs an account with TOTP"
        with self.step("totp", "two-factor page", "GET") as received:
            page = _expect(client.get(two_factor_url), 200, received, TOTP_FORM)
        step = self.totp.step()
        code = self.totp.code_at_step(step)
        self._last_totp_step = step
        with self.step("totp", "code", "POST") as received:
            _expect(client.submit_page(page, TOTP_FORM, totp_value=code), 303, received)

    def _recovery_code(self, client: IndexClient, two_factor_url: str) -> None:
        with self.step("recovery-code", "recovery-code page", "GET") as received:
            page = _expect(
                client.recovery_code_page(two_factor_url), 200, received, RECOVERY_CODE_FORM
            )
        with self.step("recovery-code", "code", "POST") as received:
            if not self.codes:
                raise LookupError("no recovery code left: making new ones failed before")
            code = self.codes.pop(0)
            answer = client.submit_page(page, RECOVERY_CODE_FORM, recovery_code_value=code)
            _expect(answer, 303, received)
        if not self.codes:
            with self.step("recovery-code", "regenerate codes", "GET"):
                self.codes = list(
                    client.generate_recovery_codes(self.account.password, regenerate=True)
                )
                self._secrets += tuple(self.codes)

    def _webauthn(self, client: IndexClient, two_factor_url: str) -> None:
        assert self.key is not None, "a WebAuthn journey needs an account with a security key"
        with self.step("webauthn", "options", "GET") as received:
            options = client.webauthn_authenticate_options(two_factor_url)
            _expect_json(options, received)
        with self.step("webauthn", "two-factor page", "GET") as received:
            page = _expect(client.get(two_factor_url), 200, received, "#webauthn-auth-begin")
        with self.step("webauthn", "assertion", "POST") as received:
            credential = self.key.get(options.body, client.origin)
            answer = client.json_post(
                f"/account/webauthn-authenticate/validate?{urlsplit(two_factor_url).query}",
                {
                    "csrf_token": str(page.one("#webauthn-auth-begin").get("value", "")),
                    "credential": warehouse_credential(credential),
                },
            )
            _expect_json(answer, received)

    def _log_out(self, client: IndexClient, journey: str) -> None:
        with self.step(journey, "logout page", "GET") as received:
            page = _expect(client.get("/account/logout/"), 200, received, "form#logout-form")
        with self.step(journey, "log out", "POST") as received:
            _expect(client.submit_page(page, "form#logout-form"), 303, received)


def _expect(page: HtmlPage, status: int, received: list[int], selector: str = "") -> HtmlPage:
    """``page``, once its size is counted, when it has ``status`` (and an element
    ``selector``).

    :raises ContractMismatch: it has not; the message names the status, where a redirect
        pointed and the errors the page shows.
    """
    received.append(len(page.response.content))
    if page.status != status:
        shown = page.texts("ul.form-errors li, ul[id$=-errors] li") + page.flashes("error")
        where = f" to {_path(page.location)}" if page.location else ""
        detail = f": {'; '.join(shown)}" if shown else ""
        raise ContractMismatch(f"answered {page.status}{where}, not {status}{detail}")
    if selector and not page.has(selector):
        raise ContractMismatch(f"answered {page.status} without {selector}")
    return page


def _expect_json(answer: JsonAnswer, received: list[int]) -> None:
    received.append(len(str(answer.body)))
    if not (answer.status == 200 and "fail" not in answer.body):
        errors = "; ".join(answer.errors) or "no error given"
        raise ContractMismatch(f"answered {answer.status}: {errors}")


def _path(location: str) -> str:
    """A redirect's path without its query (which may carry a login token)."""
    return urlsplit(location).path or location


def _describe(error: Exception) -> str:
    """One line for an error: the harness's own messages as they are, others with their type
    (``ConnectionError: …``)."""
    if isinstance(error, ContractMismatch):
        return str(error)
    text = " ".join(str(error).split()) or "no message"
    return f"{type(error).__name__}: {text}"
