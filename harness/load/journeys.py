"""The locustfile of ``harness load``: Locust users taking the login journeys of
:mod:`harness.load.flows`, each step reported to Locust's statistics under its own name.

Run only by Locust, in its own process (``python -m locust -f harness/load/journeys.py``):
importing Locust monkey-patches the standard library with gevent, which the harness's own
process must never see.

Accounts: the process that runs the users alone (``harness load`` without ``--master``), or
the master, reads the plan the harness wrote (:data:`~harness.load.users.ACCOUNTS_VARIABLE`
names its file). Each user leases one account as it starts, never shared: from the plan when
it runs beside it, or, on a worker, by a custom message to the master, which hands each
account out once.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import gevent
from gevent.event import AsyncResult
from locust import User, between, events, task
from locust.exception import StopUser
from locust.runners import MasterRunner, WorkerRunner
from locust.stats import StatsError

from harness.load.flows import LoadUser, StepResult
from harness.load.report import PERCENTILES, RESULTS_VARIABLE
from harness.load.users import ACCOUNTS_VARIABLE, LoadAccount, read_plan

LEASE = "harness-load-lease"
"""Worker → master: a user asks for an account (``{"request": id}``)."""
GRANT = "harness-load-grant"
"""Master → worker: the account for that request, or None when none is left."""
LEASE_TIMEOUT = 60.0

_plan: dict[str, Any] = {"journeys": (), "webauthn_encoding": "base64url", "accounts": []}
_waiting: dict[str, AsyncResult] = {}
_environment: list[Any] = []


@events.init.add_listener
def _on_init(environment, runner=None, **_: Any) -> None:
    _environment.append(environment)
    if isinstance(runner, WorkerRunner):
        runner.register_message(GRANT, _on_grant)
        return
    path = os.environ.get(ACCOUNTS_VARIABLE)
    if not path:
        raise SystemExit(f"harness load: {ACCOUNTS_VARIABLE} names no accounts file")
    plan = read_plan(Path(path))
    _plan.update(
        journeys=plan.journeys,
        webauthn_encoding=plan.webauthn_encoding,
        accounts=list(plan.accounts),
    )
    if isinstance(runner, MasterRunner):
        runner.register_message(LEASE, _on_lease)


@events.quit.add_listener
def _on_quit(**_: Any) -> None:
    """Write the final statistics where the harness reads them (Locust's CSV files are
    written every second, so they may lack the last one)."""
    path = os.environ.get(RESULTS_VARIABLE)
    if not path or not _environment or isinstance(_environment[0].runner, WorkerRunner):
        return
    stats = _environment[0].runner.stats
    results = {
        "steps": [_figures(entry) for entry in stats.entries.values() if entry.num_requests],
        "total": _figures(stats.total),
        "errors": [
            {
                "name": error.name,
                "method": error.method,
                "error": StatsError.parse_error(error.error),
                "occurrences": error.occurrences,
            }
            for error in stats.errors.values()
        ],
        "exceptions": [
            {"message": row["msg"], "count": row["count"]}
            for row in _environment[0].runner.exceptions.values()
        ],
    }
    Path(path).write_text(json.dumps(results, indent=2), encoding="utf-8")


def _figures(entry) -> dict[str, Any]:
    """One step's figures. Locust keeps response times rounded (to two significant digits
    above 100 ms), so a percentile it reports may exceed the exact maximum: it is capped
    there."""
    most = entry.max_response_time or 0
    return {
        "name": entry.name,
        "method": entry.method,
        "requests": entry.num_requests,
        "failures": entry.num_failures,
        **{
            f"p{percentile}": min(entry.get_response_time_percentile(percentile / 100), most)
            for percentile in PERCENTILES
        },
        "max": most,
        "per_second": entry.total_rps,
    }


def _take() -> dict[str, Any] | None:
    """One account of the plan, with the journeys, handed out once; None when none is left."""
    if not _plan["accounts"]:
        return None
    account: LoadAccount = _plan["accounts"].pop(0)
    return {
        "account": account.to_json(),
        "journeys": list(_plan["journeys"]),
        "webauthn_encoding": _plan["webauthn_encoding"],
    }


def _on_lease(environment, msg, **_: Any) -> None:
    environment.runner.send_message(
        GRANT, {"request": msg.data["request"], "lease": _take()}, client_id=msg.node_id
    )


def _on_grant(environment, msg, **_: Any) -> None:
    waiting = _waiting.pop(msg.data["request"], None)
    if waiting is not None:
        waiting.set(msg.data["lease"])


def _lease(environment) -> dict[str, Any] | None:
    if not isinstance(environment.runner, WorkerRunner):
        return _take()
    request = uuid.uuid4().hex
    _waiting[request] = AsyncResult()
    environment.runner.send_message(LEASE, {"request": request})
    try:
        return _waiting[request].get(timeout=LEASE_TIMEOUT)
    except gevent.Timeout:
        _waiting.pop(request, None)
        return None


class LoginJourneys(User):
    """A person logging in again and again with a second factor, on an account of its own."""

    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        lease = _lease(self.environment)
        if lease is None:
            self._fail_to_start("no test account left for this user")
        try:
            self.person = LoadUser(
                self.environment.host or self.host or "",
                LoadAccount.from_json(lease["account"]),
                lease["journeys"],
                self._record,
                webauthn_encoding=lease["webauthn_encoding"],
                sleep=gevent.sleep,
            )
        except ValueError as error:  # a production host
            self._fail_to_start(str(error))

    def _fail_to_start(self, message: str) -> None:
        self.environment.events.request.fire(
            request_type="START",
            name="user start",
            response_time=0,
            response_length=0,
            exception=_Error(message),
            context={},
        )
        raise StopUser()

    @task
    def journey(self) -> None:
        self.person.take(self.person.next_journey())

    def _record(self, result: StepResult) -> None:
        self.environment.events.request.fire(
            request_type=result.method,
            name=result.name,
            response_time=result.seconds * 1000,
            response_length=result.length,
            exception=None if result.error is None else _Error(result.error),
            context={},
        )


class _Error(Exception):
    """A step's error, shown in Locust's statistics as its message alone."""

    def __repr__(self) -> str:
        return str(self)
