"""`harness guide` end to end, as CI runs it: a subprocess against a bundled server, every
question answered from a file and the software authenticators standing in for the person.

The summary holds every journey, every answer and a screenshot per step, and the report folder
no secret; a session stopped in the middle resumes at the same journey, and undo hands the
account back as it started.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.accounts import AccountFactory, TestAccount
from harness.guide import sandbox
from harness.guide.html import PAGE
from harness.guide.journeys import plan
from harness.guide.state import load
from harness.report.summary import PRIVATE, SUMMARY
from harness.staging import AccountState, read_account_state
from harness.targets import BundledServer, Profile
from tests.harness.conftest import (
    PNG,
    SCREENSHOT,
    STILL_THE_SAME,
    answers_of,
    assert_no_secret,
    guide_answers,
    run_guide,
)

JOURNEYS = plan()


def test_a_scripted_session_reports_every_journey_answer_and_screenshot(tmp_path: Path) -> None:
    (tmp_path / "answers.toml").write_text(guide_answers(JOURNEYS), encoding="utf-8")
    out = tmp_path / "out"

    run = run_guide("--answers", tmp_path / "answers.toml", "--out", out, vault=tmp_path / "v")

    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
    summary = (out / SUMMARY).read_text(encoding="utf-8")
    for item in JOURNEYS:
        assert f"(`{item.id}`)" in summary and item.title in summary
        for answer in answers_of(item.id):
            assert answer in summary
    for named in ("Chromium (CI)", "Debian (CI)", "virtual key (CI)", "TotpApp (CI)"):
        assert named in summary
    assert "did not work" not in summary, summary
    shots = SCREENSHOT.findall(summary)
    # The sandbox's account starts without recovery codes: every step is needed, saving them too.
    assert len(shots) == sum(len(item.steps) for item in JOURNEYS)
    assert "- Outcome: not needed," not in summary
    for shot in shots:
        assert (out / shot).read_bytes().startswith(PNG), shot
    page = (out / PAGE).read_text(encoding="utf-8")
    assert all(f'src="{shot}"' in page for shot in shots)
    password = re.search(r"username \S+, password (\S+)\.", run.stdout)
    assert password is not None, run.stdout[:2000]
    assert_no_secret(out, [password.group(1)])
    assert STILL_THE_SAME in run.stdout
    assert not (tmp_path / "v").exists() or not any((tmp_path / "v").iterdir())


@pytest.fixture
def staging(tmp_path: Path) -> Iterator[BundledServer]:
    """A server standing for a staging server: the bundled one, letting the last method go
    as the guide's sandbox does (the account starts with none)."""
    profile = Profile.load("reference").for_bundled_server()
    with BundledServer(profile, tmp_path / "server", sandbox.UNDO_NEEDS) as server:
        yield server


def account_state(server: BundledServer, account: TestAccount) -> AccountState:
    """The account's state, logged in with the password alone: an account the guide left
    with a second factor fails here."""
    assert server.target is not None
    client = server.target.client()
    login = client.login(account.username, account.password)
    assert login.status == 303 and not login.location.startswith("/account/"), login.location
    # Tokens and projects unread: the index keeps them from an account without 2FA.
    return read_account_state(client, account.password, api_tokens=False, projects=False)


def test_a_stopped_session_resumes_at_its_journey_and_undo_restores_the_account(
    staging: BundledServer, tmp_path: Path
) -> None:
    assert staging.target is not None
    account = AccountFactory(staging.target).create(two_factor_ready=True)
    before = account_state(staging, account)
    env = {"HARNESS_USERNAME": account.username, "HARNESS_PASSWORD": account.password}
    stop_at, vault, out = "key-login", tmp_path / "vault", tmp_path / "out"
    (tmp_path / "stop.toml").write_text(guide_answers(JOURNEYS, stop_at=stop_at), encoding="utf-8")
    (tmp_path / "go-on.toml").write_text(guide_answers(JOURNEYS), encoding="utf-8")
    url = staging.target.base_url

    first = run_guide(
        "--base-url", url, "--answers", tmp_path / "stop.toml", "--out", out, vault=vault, env=env
    )

    assert first.returncode == 3, first.stdout[-3000:] + first.stderr
    state = load(out)
    assert state.next_journey() == stop_at
    assert [record.journey_id for record in state.done] == ["totp-setup", "totp-login", "key-setup"]
    held = json.loads(next(vault.glob("*.json")).read_text())
    secrets = [held["totp-seed"], *(c["privateKey"] for c in json.loads(held["key-credentials"]))]

    second = run_guide(
        "--base-url", url, "--answers", tmp_path / "go-on.toml", "--out", out, vault=vault, env=env
    )

    assert second.returncode == 0, second.stdout[-3000:] + second.stderr
    assert "Welcome back. Going on with 'Log in with your security key'" in second.stdout
    assert "Journey 4 of 6" in second.stdout
    for earlier in ("Journey 1 of", "Journey 2 of", "Journey 3 of"):
        assert earlier not in second.stdout
    summary = (out / SUMMARY).read_text(encoding="utf-8")
    for item in JOURNEYS:
        assert f"(`{item.id}`)" in summary
        for answer in answers_of(item.id):
            assert answer in summary
    # Recovery codes cannot be un-generated: the one change left, and said so.
    assert [change.kind.value for change in load(out).changes] == ["recovery codes"]
    assert account_state(staging, account) == before
    assert_no_secret(out, [account.password, *secrets])


def test_a_security_finding_goes_to_the_private_file_only(tmp_path: Path) -> None:
    profile = Profile.load("reference").for_bundled_server()
    broken = (*sandbox.UNDO_NEEDS, "recovery-code-single-use")
    (tmp_path / "answers.toml").write_text(guide_answers(JOURNEYS), encoding="utf-8")
    with BundledServer(profile, tmp_path / "server", broken) as server:
        assert server.target is not None
        account = AccountFactory(server.target).create(two_factor_ready=True)
        env = {"HARNESS_USERNAME": account.username, "HARNESS_PASSWORD": account.password}
        out = tmp_path / "out"

        run = run_guide(
            "--base-url",
            server.target.base_url,
            "--answers",
            tmp_path / "answers.toml",
            "--out",
            out,
            vault=tmp_path / "vault",
            env=env,
        )

    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
    private = (out / PRIVATE).read_text(encoding="utf-8")
    assert "`recovery-code-single-use`" in private
    assert "a used recovery code was accepted again" in private
    for public in (out / SUMMARY, out / PAGE):
        text = public.read_text(encoding="utf-8")
        assert "accepted again" not in text and PRIVATE in text
