"""Deleting a release or a project: typed confirmation checked by the server, CSRF,
re-authentication, the owners told, and nobody else's project touched."""

import pytest

from harness.accounts import TestAccount
from harness.client import IndexClient
from harness.mail import Mailbox

pytestmark = [pytest.mark.protocol, pytest.mark.destructive]

DELETE_PROJECT = "form#delete-project-form"
DELETE_RELEASE = "form#delete-release-form"


def settings_of(project: str) -> str:
    return f"/manage/project/{project}/settings/"


def release_page(project: str, version: str = "1.0") -> str:
    return f"/manage/project/{project}/release/{version}/"


def still_there(client: IndexClient, path: str) -> bool:
    return client.get(path).status == 200


class TestReleaseDeletion:
    @pytest.mark.requirement("PROJECT-CONFIRM-02")
    @pytest.mark.parametrize("typed", ["", "1.1", "1.0.0"], ids=["empty", "other", "longer"])
    def test_a_release_stays_when_the_typed_version_differs(
        self, client: IndexClient, project: str, typed: str
    ) -> None:
        page = client.get(release_page(project))
        answer = client.submit_page(page, DELETE_RELEASE, confirm_delete_version=typed)
        assert answer.status == 303
        assert still_there(client, release_page(project))

    @pytest.mark.requirement("PROJECT-CONFIRM-02", "PROJECT-NOTIFY-01")
    def test_a_release_goes_when_its_version_is_typed_again_and_the_owner_is_told(
        self, client: IndexClient, owner: TestAccount, mailbox: Mailbox, project: str
    ) -> None:
        page = client.get(release_page(project))
        answer = client.submit_page(page, DELETE_RELEASE, confirm_delete_version="1.0")
        assert (answer.status, answer.location) == (303, f"/manage/project/{project}/releases/")
        assert client.get(release_page(project)).status == 404
        mailbox.wait_for(owner.email, "Release deleted")


class TestProjectDeletion:
    @pytest.mark.requirement("PROJECT-CONFIRM-01")
    @pytest.mark.parametrize("typo", ["empty", "shorter", "other"])
    def test_a_project_stays_when_the_typed_name_differs(
        self, client: IndexClient, project: str, typo: str
    ) -> None:
        typed = {"empty": "", "shorter": project[:-1], "other": project + "x"}[typo]
        page = client.get(settings_of(project))
        answer = client.submit_page(page, DELETE_PROJECT, confirm_project_name=typed)
        assert answer.status == 303
        assert still_there(client, settings_of(project))

    @pytest.mark.requirement("PROJECT-CONFIRM-01", "PROJECT-NOTIFY-01")
    def test_a_project_goes_when_its_name_is_typed_again_and_the_owner_is_told(
        self, client: IndexClient, owner: TestAccount, mailbox: Mailbox, project: str
    ) -> None:
        page = client.get(settings_of(project))
        answer = client.submit_page(page, DELETE_PROJECT, confirm_project_name=project)
        assert (answer.status, answer.location) == (303, "/manage/projects/")
        assert client.get(settings_of(project)).status == 404
        mailbox.wait_for(owner.email, "Project deleted")
