"""`harness guide --destructive`: the journeys that remove a collaborator, delete a release and
delete a project, on test projects the guide makes and undoes; never on the production index,
and only on request.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from harness.accounts import AccountFactory, TestAccount
from harness.cli import build_parser
from harness.client import IndexClient
from harness.guide import collaborator, command
from harness.guide.account import GuideAccount, GuideUndoer
from harness.guide.collaborator import SandboxCollaborator
from harness.guide.journeys import (
    AccountChange,
    ChangeKind,
    journey,
    plan,
)
from harness.guide.releases import new_project_name
from harness.guide.state import STATE_FILE, load
from harness.redaction import Secret
from harness.report.summary import SUMMARY
from harness.targets import BundledServer
from harness.uploads import build_wheel, twine_upload
from tests.harness.conftest import (
    PNG,
    SCREENSHOT,
    STILL_THE_SAME,
    answers_of,
    assert_every_step_worked,
    assert_no_secret,
    guide_answers,
    run_guide,
)

JOURNEYS = plan(destructive=True)
DESTRUCTIVE = [item for item in JOURNEYS if item.destructive]
API_TOKEN = re.compile(r"pypi-[\w-]{20,}")
"""An API token of the reference server."""
UNREACHABLE = "http://localhost:1"
"""A --base-url that passes the origin check and answers nothing: a session there breaks at
its login, after its plan is saved."""
ACCOUNT = {"HARNESS_USERNAME": "tester", "HARNESS_PASSWORD": "not-a-real-password"}
COLLABORATOR = {
    collaborator.USERNAME: "second",
    collaborator.PASSWORD: "not-a-real-password-either",
    "HARNESS_IMAP_URL": "imaps://user:secret@mail.example/INBOX",
    "HARNESS_MAIL_ADDRESS": "tester@mail.example",
}


def guide(tmp_path: Path, *options: str, environ: dict[str, str] | None = None) -> int:
    """``harness guide --out tmp_path/out *options``, in this process."""
    args = build_parser().parse_args(["guide", "--out", str(tmp_path / "out"), *options])
    vault = {"HARNESS_GUIDE_VAULT": str(tmp_path / "v")}
    return command.run(args, environ={**vault, **(environ or {})})


def test_a_scripted_destructive_session_deletes_only_what_it_made_and_undoes_the_rest(
    tmp_path: Path,
) -> None:
    (tmp_path / "answers.toml").write_text(guide_answers(JOURNEYS), encoding="utf-8")
    out = tmp_path / "out"

    run = run_guide(
        "--destructive", "--answers", tmp_path / "answers.toml", "--out", out, vault=tmp_path / "v"
    )

    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
    summary = (out / SUMMARY).read_text(encoding="utf-8")
    assert "did not work" not in summary, summary
    for item in DESTRUCTIVE:
        assert f"(`{item.id}`)" in summary and item.title in summary
        for answer in answers_of(item.id):
            assert answer in summary
    shots = SCREENSHOT.findall(summary)
    assert len(shots) == sum(len(item.steps) for item in JOURNEYS)
    state = load(out)
    assert state.plan == [item.id for item in JOURNEYS]
    steps = assert_every_step_worked(out, DESTRUCTIVE)
    assert "lists 1.0;" in steps["delete-release", "confirm-delete"].actual
    assert "no longer in your projects" in steps["delete-project", "confirm-delete"].actual
    assert "no longer listed" in steps["remove-collaborator", "confirm-remove"].actual
    # The projects of remove-collaborator and delete-release were the undo's to delete.
    assert len(re.findall(r"^Removed: project 'guide-test-\w+'\.$", run.stdout, re.M)) == 2
    assert [change.kind.value for change in state.changes] == ["recovery codes"]
    assert STILL_THE_SAME in run.stdout
    password = re.search(r"username \S+, password (\S+)\.", run.stdout)
    assert password is not None, run.stdout[:2000]
    assert_no_secret(out, [password.group(1)])
    for path in out.rglob("*"):
        if path.is_file() and not path.read_bytes().startswith(PNG):
            assert not API_TOKEN.search(path.read_text(encoding="utf-8")), path
    assert not API_TOKEN.search(run.stdout + run.stderr)


@pytest.mark.parametrize("url", ["https://pypi.org", "https://upload.pypi.org/legacy/"])
def test_the_production_index_is_refused_before_anything_is_done(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    environ = {**ACCOUNT, **COLLABORATOR}

    status = guide(tmp_path, "--destructive", "--base-url", url, environ=environ)

    assert status == command.BAD_INPUT
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "production index" in error
    assert not (tmp_path / "out").exists() and not (tmp_path / "v").exists()


def test_a_staging_target_without_the_second_account_says_what_to_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = guide(tmp_path, "--destructive", "--base-url", UNREACHABLE, environ=ACCOUNT)

    assert status == command.BAD_INPUT
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and collaborator.USERNAME in error
    assert not (tmp_path / "out" / STATE_FILE).exists()


@pytest.mark.parametrize("destructive", [False, True])
def test_the_destructive_journeys_are_planned_only_when_asked_for(
    tmp_path: Path, destructive: bool
) -> None:
    options = ["--base-url", UNREACHABLE, "--headless"] + ["--destructive"] * destructive

    status = guide(tmp_path, *options, environ={**ACCOUNT, **COLLABORATOR})

    assert status == command.BROKE  # nothing answers there: the plan was saved all the same
    planned = load(tmp_path / "out").plan
    assert planned == [item.id for item in plan(destructive=destructive)]
    assert any(journey(item).destructive for item in planned) is destructive


class LoggedIn:
    """What :class:`GuideUndoer` needs of a :class:`BrowserAccount`, on an HTTP client."""

    def __init__(self, client: IndexClient, account: TestAccount) -> None:
        self.http = client
        self.account = GuideAccount(account.username, Secret(account.password))

    @contextmanager
    def client(self) -> Iterator[IndexClient]:
        yield self.http


def test_the_undo_removes_a_collaborator_left_on_a_test_project_then_the_project(
    server: BundledServer, tmp_path: Path
) -> None:
    assert server.target is not None
    owner = AccountFactory(server.target).create(totp=True)
    assert owner.totp is not None
    client = server.target.client()
    client.log_in_with_totp(owner.username, owner.password, owner.totp.current())
    project = new_project_name()
    token = client.create_api_token("upload", owner.password)
    wheel = build_wheel(tmp_path, project, "1.0")
    assert twine_upload(f"{server.target.base_url}/legacy/", "__token__", token, [wheel]).succeeded
    second = SandboxCollaborator(server.target)
    collaboration = f"/manage/project/{project}/collaboration/"
    fields = {"username": second.username(), "role_name": "Maintainer"}
    invited = client.submit(collaboration, "form#invite-form", **fields)
    assert client.follow(invited).flashes("error") == []
    second.accept(project)
    undoer = GuideUndoer(LoggedIn(client, owner))  # type: ignore[arg-type]

    left = [
        undoer.undo(AccountChange(ChangeKind.COLLABORATOR, second.username(), project=project)),
        undoer.undo(AccountChange(ChangeKind.PROJECT, project)),
    ]

    assert left == [None, None]
    assert client.get(collaboration).status == 404
