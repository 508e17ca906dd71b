"""`harness guide` end to end, as CI runs it: a subprocess against a bundled server, every
question answered from a file and the software authenticators standing in for the person.

The summary holds every journey, every answer and a screenshot per step, and the report folder
no secret; a session stopped in the middle resumes at the same journey, and undo hands the
account back as it started.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
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

JOURNEYS = plan()
PNG = b"\x89PNG\r\n\x1a\n"
SCREENSHOT = re.compile(r"^- Screenshot: !\[[^\]]*\]\(([^)]+)\)$", re.MULTILINE)
TOTP_SEED = re.compile(r"\b[A-Z2-7]{32}\b")
"""A TOTP seed as the index shows it: 20 bytes in base32."""
RECOVERY_CODE = re.compile(r"(?<![\w.])[0-9a-f]{16}(?!\w)")
"""A recovery code of the reference server (and, by shape, the session's own id); not the
digits after a number's decimal point."""
RUN_TIMEOUT = 120


def answers(*, stop_at: str | None = None) -> str:
    """A scripted answers file: every person's step done, distinct answers per journey."""
    lines = [
        "[environment]",
        'browser = "Chromium (CI)"',
        'os = "Debian (CI)"',
        'key = "virtual key (CI)"',
        'app = "TotpApp (CI)"',
        "[guide]",
        "undo = true",
    ]
    if stop_at:
        lines.append(f'stop_at = "{stop_at}"')
    for number, item in enumerate(JOURNEYS, 1):
        steps = ", ".join(f'{step.id} = "done"' for step in item.steps if step.action)
        lines += [
            f"[journeys.{item.id}]",
            f"steps = {{ {steps} }}",
            "worked = true",
            f"rating = {number % 5 + 1}",
            f'confusing = "confusing in {item.id}"',
            f'accessibility = "screen reader note on {item.id}"',
            f'comment = "comment on {item.id}"',
        ]
    return "\n".join(lines) + "\n"


def every_answer(item_id: str) -> list[str]:
    return [
        f"confusing in {item_id}",
        f"screen reader note on {item_id}",
        f"comment on {item_id}",
    ]


def guide(
    *args: str | Path, vault: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("HARNESS_")}
    environ.update({"HARNESS_GUIDE_VAULT": str(vault), **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", "guide", "--headless", *map(str, args)],
        capture_output=True,
        text=True,
        env=environ,
        timeout=RUN_TIMEOUT,
    )


def report_files(folder: Path) -> Iterator[Path]:
    return (path for path in folder.rglob("*") if path.is_file())


def assert_no_secret(folder: Path, known: list[str]) -> None:
    session = load(folder).session
    for path in report_files(folder):
        content = path.read_bytes()
        for secret in known:
            assert secret.encode() not in content, f"a secret is in {path}"
        if content.startswith(PNG):
            continue
        text = content.decode("utf-8")
        assert "otpauth://" not in text, path
        assert not TOTP_SEED.search(text), f"a TOTP seed is in {path}"
        assert set(RECOVERY_CODE.findall(text)) <= {session}, f"a recovery code is in {path}"


def test_a_scripted_session_reports_every_journey_answer_and_screenshot(tmp_path: Path) -> None:
    (tmp_path / "answers.toml").write_text(answers(), encoding="utf-8")
    out = tmp_path / "out"

    run = guide("--answers", tmp_path / "answers.toml", "--out", out, vault=tmp_path / "v")

    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
    summary = (out / SUMMARY).read_text(encoding="utf-8")
    for item in JOURNEYS:
        assert f"(`{item.id}`)" in summary and item.title in summary
        for answer in every_answer(item.id):
            assert answer in summary
    for named in ("Chromium (CI)", "Debian (CI)", "virtual key (CI)", "TotpApp (CI)"):
        assert named in summary
    assert "did not work" not in summary, summary
    shots = SCREENSHOT.findall(summary)
    assert len(shots) == sum(len(item.steps) for item in JOURNEYS)
    for shot in shots:
        assert (out / shot).read_bytes().startswith(PNG), shot
    page = (out / PAGE).read_text(encoding="utf-8")
    assert all(f'src="{shot}"' in page for shot in shots)
    password = re.search(r"username \S+, password (\S+)\.", run.stdout)
    assert password is not None, run.stdout[:2000]
    assert_no_secret(out, [password.group(1)])
    assert "Your account is as it was before the guide started." in run.stdout
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
    (tmp_path / "stop.toml").write_text(answers(stop_at=stop_at), encoding="utf-8")
    (tmp_path / "go-on.toml").write_text(answers(), encoding="utf-8")
    url = staging.target.base_url

    first = guide(
        "--base-url", url, "--answers", tmp_path / "stop.toml", "--out", out, vault=vault, env=env
    )

    assert first.returncode == 3, first.stdout[-3000:] + first.stderr
    state = load(out)
    assert state.next_journey() == stop_at
    assert [record.journey_id for record in state.done] == ["totp-setup", "totp-login", "key-setup"]
    held = json.loads(next(vault.glob("*.json")).read_text())
    secrets = [held["totp-seed"], *(c["privateKey"] for c in json.loads(held["key-credentials"]))]

    second = guide(
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
        for answer in every_answer(item.id):
            assert answer in summary
    # Recovery codes cannot be un-generated: the one change left, and said so.
    assert [change.kind.value for change in load(out).changes] == ["recovery codes"]
    assert account_state(staging, account) == before
    assert_no_secret(out, [account.password, *secrets])


def test_a_security_finding_goes_to_the_private_file_only(tmp_path: Path) -> None:
    profile = Profile.load("reference").for_bundled_server()
    broken = (*sandbox.UNDO_NEEDS, "recovery-code-single-use")
    (tmp_path / "answers.toml").write_text(answers(), encoding="utf-8")
    with BundledServer(profile, tmp_path / "server", broken) as server:
        assert server.target is not None
        account = AccountFactory(server.target).create(two_factor_ready=True)
        env = {"HARNESS_USERNAME": account.username, "HARNESS_PASSWORD": account.password}
        out = tmp_path / "out"

        run = guide(
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
