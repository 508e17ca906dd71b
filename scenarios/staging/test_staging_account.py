"""The tester's own account on a staging server: the changes a beta tester makes to it, each
undone after the scenario. The ``tester`` fixture restores the account and fails the teardown,
naming what it could not restore (HARNESS-RESTORE-01)."""

import secrets
from pathlib import Path

import pytest

from harness.client import IndexClient
from harness.staging import TesterSession
from harness.targets import Target
from harness.uploads import build_wheel, twine_upload
from virtual_authenticators.soft import SoftKey

pytestmark = pytest.mark.protocol


@pytest.mark.needs("webauthn")
@pytest.mark.requirement("WEBAUTHN-ENROL-01", "WEBAUTHN-LOGIN-01", "HARNESS-RESTORE-01")
def test_a_security_key_added_to_the_testers_account_logs_it_in(
    tester: TesterSession, make_client
) -> None:
    key, label = SoftKey(), "harness " + secrets.token_hex(4)
    password = tester.credentials.password
    assert tester.client.enrol_security_key(key, label, password).succeeded
    assert label in tester.state().security_keys
    other: IndexClient = make_client()
    assert other.log_in_with_key(tester.credentials.username, password, key).succeeded


@pytest.mark.needs("api_tokens")
@pytest.mark.requirement("HARNESS-RESTORE-01")
def test_an_api_token_made_for_the_testers_account_is_listed(tester: TesterSession) -> None:
    name = "harness " + secrets.token_hex(4)
    password = tester.credentials.password
    tester.client.create_api_token(name, password)
    assert name in tester.state().api_tokens


# Uploading creates a project: a change on a shared server that the tester must allow.
@pytest.mark.destructive
@pytest.mark.needs("uploads", "api_tokens")
@pytest.mark.requirement("UPLOAD-TOKEN-01", "HARNESS-RESTORE-01")
def test_a_project_uploaded_with_the_testers_token_is_the_testers(
    tester: TesterSession, target: Target, tmp_path: Path
) -> None:
    project, password = "harness-" + secrets.token_hex(5), tester.credentials.password
    token = tester.client.create_api_token("harness upload " + project, password)
    wheel = build_wheel(tmp_path / project, project, "1.0")
    result = twine_upload(f"{target.base_url}/legacy/", "__token__", token, [wheel])
    assert result.succeeded, result.output
    assert project in tester.state().projects
