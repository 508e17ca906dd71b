"""Fixtures of the project scenarios: a maintainer, uploads with twine, a project to act on."""

import secrets
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.accounts import TestAccount
from harness.client import IndexClient
from harness.redaction import Secret
from harness.targets import Target
from harness.uploads import UploadResult, build_wheel, twine_upload

Upload = Callable[..., UploadResult]


@pytest.fixture
def maintainer(make_account, client: IndexClient) -> TestAccount:
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
def project(maintainer: TestAccount, client: IndexClient, upload: Upload) -> str:
    """A project of ``maintainer``, release 1.0, uploaded with a token for the whole account."""
    name = new_project_name()
    token = client.create_api_token("set-up " + name, maintainer.password)
    result = upload("__token__", token, name)
    assert result.succeeded, result.output
    return name
