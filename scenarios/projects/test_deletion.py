"""Deleting a release or a project: typed confirmation checked by the server, CSRF,
re-authentication, the owners told, and nobody else's project touched."""

import pytest

from harness.accounts import TestAccount
from harness.client import REAUTH_FORM, IndexClient
from harness.mail import Mailbox
from harness.targets import Profile

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
        self, client: IndexClient, maintainer: TestAccount, mailbox: Mailbox, project: str
    ) -> None:
        page = client.get(release_page(project))
        answer = client.submit_page(page, DELETE_RELEASE, confirm_delete_version="1.0")
        assert (answer.status, answer.location) == (303, f"/manage/project/{project}/releases/")
        assert client.get(release_page(project)).status == 404
        mailbox.wait_for(maintainer.email, "Release deleted")


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
        self, client: IndexClient, maintainer: TestAccount, mailbox: Mailbox, project: str
    ) -> None:
        page = client.get(settings_of(project))
        answer = client.submit_page(page, DELETE_PROJECT, confirm_project_name=project)
        assert (answer.status, answer.location) == (303, "/manage/projects/")
        assert client.get(settings_of(project)).status == 404
        mailbox.wait_for(maintainer.email, "Project deleted")


class TestDeletionGuards:
    @pytest.mark.requirement("PROJECT-CSRF-01")
    @pytest.mark.parametrize("what", ["project", "release"])
    def test_deleting_without_the_csrf_token_is_refused(
        self, client: IndexClient, project: str, what: str
    ) -> None:
        if what == "project":
            path, kept, fields = (
                f"/manage/project/{project}/delete_project/",
                settings_of(project),
                {"confirm_project_name": project},
            )
        else:
            path, kept, fields = (
                release_page(project),
                release_page(project),
                {"confirm_delete_version": "1.0"},
            )
        assert client.post(path, fields).status == 400
        assert still_there(client, kept)

    @pytest.mark.requirement("PROJECT-REAUTH-01")
    def test_a_stale_login_is_asked_for_the_password_before_deleting(
        self, client: IndexClient, project: str, server_clock, target_profile: Profile
    ) -> None:
        page = client.get(settings_of(project))
        server_clock(target_profile.ages.reauthenticate + 60)
        answer = client.submit_page(page, DELETE_PROJECT, confirm_project_name=project)
        assert answer.status == 200
        assert answer.has(REAUTH_FORM)
        server_clock(0)
        assert still_there(client, settings_of(project))

    @pytest.mark.requirement("PROJECT-OWNER-01")
    def test_another_users_project_is_not_found_and_not_deleted(
        self, client: IndexClient, make_account, make_client, project: str
    ) -> None:
        other = make_account(totp=True)
        intruder: IndexClient = make_client()
        intruder.log_in_with_totp(other.username, other.password, other.totp.current())
        assert intruder.get(settings_of(project)).status == 404
        token = intruder.csrf_token("/manage/account/")
        refused = intruder.post(
            f"/manage/project/{project}/delete_project/",
            {"csrf_token": token, "confirm_project_name": project},
        )
        assert refused.status == 404
        assert intruder.get(release_page(project)).status == 404
        assert still_there(client, settings_of(project))
