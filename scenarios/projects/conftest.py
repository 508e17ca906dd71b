"""Fixtures of the project scenarios: an owner, uploads with twine, a project to act on."""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.accounts import TestAccount
from harness.client import IndexClient
from harness.mail import Mailbox, link_in
from harness.redaction import Secret
from harness.targets import Target
from harness.uploads import UploadResult, build_wheel, twine_upload

Upload = Callable[..., UploadResult]


@pytest.fixture
def owner(make_account, client: IndexClient) -> TestAccount:
    """An account with TOTP (what the current policy asks of anyone who manages or uploads),
    logged in on ``client``."""
    account = make_account(totp=True)
    client.log_in_with_totp(account.username, account.password, account.totp.current())
    return account


@pytest.fixture
def upload(target: Target, tmp_path: Path) -> Upload:
    """Uploads a fresh wheel with twine: ``upload(username, password, project, version)``."""

    def send(username: str, password: str | Secret, project: str, version: str = "1.0"):
        wheel = build_wheel(tmp_path / f"{project}-{version}", project, version)
        return twine_upload(f"{target.base_url}/legacy/", username, password, [wheel])

    return send


def new_project_name() -> str:
    return "p" + secrets.token_hex(5)


@pytest.fixture
def project(owner: TestAccount, client: IndexClient, upload: Upload, target: Target) -> str:
    """A project of ``owner``, release 1.0, uploaded with a token for the whole account, or
    with the password on a target that has no API tokens (the 2019 index)."""
    name = new_project_name()
    if target.profile.lacks("api_tokens"):
        result = upload(owner.username, owner.password, name)
    else:
        token = client.create_api_token("set-up " + name, owner.password)
        result = upload("__token__", token, name)
    assert result.succeeded, result.output
    return name


@dataclass
class Collaborator:
    """Another account with TOTP, logged in on its own client."""

    account: TestAccount
    client: IndexClient

    def accept(self, mailbox: Mailbox, project: str) -> int:
        """Open the mailed invitation and accept it; the status of the answer."""
        mail = mailbox.wait_for(self.account.email, f"Invitation to join {project}")
        link = link_in(mail, "/account/verify-project-role/")
        return self.client.submit(link, "form#accept-role-form", accept="1").status


@pytest.fixture
def make_collaborator(make_account, make_client) -> Callable[[], Collaborator]:
    def make() -> Collaborator:
        account = make_account(totp=True)
        client: IndexClient = make_client()
        client.log_in_with_totp(account.username, account.password, account.totp.current())
        return Collaborator(account, client)

    return make


def collaboration_of(project: str) -> str:
    return f"/manage/project/{project}/collaboration/"


def invite(client: IndexClient, project: str, username: str, role: str = "Maintainer") -> int:
    page = client.submit(
        collaboration_of(project), "form#invite-form", username=username, role_name=role
    )
    return page.status


def roles(client: IndexClient, project: str) -> dict[str, str]:
    page = client.get(collaboration_of(project))
    return {
        str(li["data-username"]): str(li["data-role"]) for li in page.select("#collaborators li")
    }


@pytest.fixture
def member(client: IndexClient, project: str, make_collaborator, mailbox: Mailbox) -> Collaborator:
    """A Maintainer of ``project`` who accepted the owner's invitation."""
    collaborator = make_collaborator()
    assert invite(client, project, collaborator.account.username) == 303
    assert collaborator.accept(mailbox, project) == 303
    return collaborator
