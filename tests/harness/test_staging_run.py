"""A staging run as a beta tester makes one: the scenarios of the tester's own account run
against a server named by ``--base-url``, and the account ends with exactly the 2FA methods,
tokens and projects it started with. The "staging server" is a bundled one started here."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.accounts import AccountFactory, TestAccount
from harness.client import IndexClient
from harness.staging import read_account_state
from harness.targets import BundledServer, Profile, Target
from virtual_authenticators.soft import SoftKey

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def staging(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with BundledServer(Profile.load("reference"), tmp_path_factory.mktemp("staging")) as server:
        assert server.target is not None
        yield server.target


def make_testers_account(staging: Target) -> tuple[TestAccount, IndexClient]:
    """An account as a tester's would be: TOTP, a key and a token; logged in on a client."""
    account = AccountFactory(staging).create(totp=True, security_key=SoftKey())
    assert account.totp is not None
    client = staging.client()
    # A code of the previous step (one step of drift is accepted), so that the run's own login,
    # in this step, is not refused as a replay of this one.
    client.log_in_with_totp(account.username, account.password, account.totp.previous())
    client.create_api_token("tester's own", account.password)
    return account, client


def staging_run(
    staging: Target, account: TestAccount, *arguments: str
) -> subprocess.CompletedProcess[str]:
    assert account.totp is not None
    credentials = {
        "HARNESS_USERNAME": account.username,
        "HARNESS_PASSWORD": account.password,
        "HARNESS_TOTP_SECRET": account.totp.secret,
    }
    options = ["-p", "no:randomly", "-p", "no:cacheprovider", "-q", "-rs"]
    return subprocess.run(
        [sys.executable, "-m", "pytest", f"--base-url={staging.base_url}", *options, *arguments],
        cwd=PROJECT,
        env={**os.environ, **credentials},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_staging_run_leaves_the_testers_account_as_it_found_it(staging: Target) -> None:
    account, client = make_testers_account(staging)
    before = read_account_state(client, account.password)
    run = staging_run(staging, account, "scenarios/staging", "--allow-destructive")
    assert run.returncode == 0, run.stdout[-3000:]
    assert "3 passed" in run.stdout
    after = read_account_state(client, account.password)
    assert after == before
    assert (after.totp, after.security_keys, after.api_tokens, after.projects) == (
        True,
        frozenset({"key 1"}),
        frozenset({"tester's own"}),
        frozenset(),
    )


REMOVES_THE_TESTERS_KEY = """
from harness.staging import TesterSession


def test_removes_the_testers_key(tester: TesterSession) -> None:
    page = tester.client.open_sensitive("/manage/account/two-factor/", tester.credentials.password)
    tester.client.submit_page(
        page,
        "form[action$='/webauthn-provision/delete']",
        label="key 1",
        confirm_device_name="key 1",
    )
"""


def test_a_scenario_that_removes_what_the_tester_had_fails_naming_it(
    staging: Target, tmp_path: Path
) -> None:
    """The twin of the run above: the one change the harness cannot undo is reported."""
    account, _ = make_testers_account(staging)
    scenario = tmp_path / "test_removal.py"
    scenario.write_text(REMOVES_THE_TESTERS_KEY)
    run = staging_run(staging, account, str(scenario), f"--rootdir={PROJECT}")
    assert run.returncode == 1
    assert "1 passed, 1 error" in run.stdout
    assert (
        "the tester's account was not left as it was: security key 'key 1' was removed during"
        " the test and cannot be given back"
    ) in run.stdout
