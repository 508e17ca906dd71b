"""A project's collaborators: invitations by mail, removal with the username typed again, the
last owner kept, and what a Maintainer may do."""

import pytest

from harness.accounts import TestAccount
from harness.client import IndexClient
from harness.mail import Mailbox, link_in
from scenarios.projects.conftest import (
    Collaborator,
    Upload,
    collaboration_of,
    invite,
    roles,
)

pytestmark = [pytest.mark.protocol, pytest.mark.destructive]

REMOVE = "form.delete-role-form"


def remove(client: IndexClient, project: str, username: str, typed: str) -> None:
    page = client.get(collaboration_of(project))
    selector = f'#collaborators li[data-username="{username}"] {REMOVE}'
    client.submit_page(page, selector, confirm_username=typed)


class TestInvitations:
    @pytest.mark.requirement("PROJECT-ROLE-01", "PROJECT-NOTIFY-02")
    @pytest.mark.needs("api_tokens")
    def test_an_invited_user_uploads_only_after_accepting_and_the_owner_is_told(
        self,
        client: IndexClient,
        owner: TestAccount,
        project: str,
        make_collaborator,
        mailbox: Mailbox,
        upload: Upload,
    ) -> None:
        invited = make_collaborator()
        token = invited.client.create_api_token("mine", invited.account.password)
        assert invite(client, project, invited.account.username) == 303
        assert not upload("__token__", token, project, "2.0").succeeded
        assert invited.accept(mailbox, project) == 303
        result = upload("__token__", token, project, "2.0")
        assert result.succeeded, result.output
        mailbox.wait_for(owner.email, f"New collaborator on {project}")

    @pytest.mark.requirement("PROJECT-ROLE-02")
    def test_an_invitation_link_grants_nothing_to_another_user(
        self, client: IndexClient, project: str, make_collaborator, mailbox: Mailbox
    ) -> None:
        invited, intruder = make_collaborator(), make_collaborator()
        assert invite(client, project, invited.account.username) == 303
        mail = mailbox.wait_for(invited.account.email, f"Invitation to join {project}")
        link = link_in(mail, "/account/verify-project-role/")
        token = intruder.client.csrf_token("/manage/account/")
        intruder.client.post(link, {"csrf_token": token, "accept": "1"})
        assert intruder.account.username not in roles(client, project)
        assert invited.accept(mailbox, project) == 303
        assert roles(client, project)[invited.account.username] == "Maintainer"


class TestRemoval:
    @pytest.mark.requirement("PROJECT-CONFIRM-03")
    @pytest.mark.parametrize("typo", ["empty", "shorter", "another"])
    def test_a_collaborator_stays_when_the_typed_username_differs(
        self, client: IndexClient, project: str, member: Collaborator, typo: str
    ) -> None:
        name = member.account.username
        typed = {"empty": "", "shorter": name[:-1], "another": name + "x"}[typo]
        remove(client, project, name, typed)
        assert name in roles(client, project)

    @pytest.mark.requirement("PROJECT-CONFIRM-03", "PROJECT-NOTIFY-02")
    @pytest.mark.needs("api_tokens")
    def test_a_collaborator_goes_when_their_username_is_typed_and_they_are_told(
        self,
        client: IndexClient,
        project: str,
        member: Collaborator,
        mailbox: Mailbox,
        upload: Upload,
    ) -> None:
        token = member.client.create_api_token("mine", member.account.password)
        name = member.account.username
        remove(client, project, name, name)
        assert name not in roles(client, project)
        mailbox.wait_for(member.account.email, f"Collaborator removed from {project}")
        assert not upload("__token__", token, project, "2.0").succeeded

    @pytest.mark.requirement("PROJECT-LAST-OWNER-01")
    def test_the_last_owner_cannot_remove_themselves(
        self, client: IndexClient, owner: TestAccount, project: str
    ) -> None:
        remove(client, project, owner.username, owner.username)
        assert roles(client, project) == {owner.username: "Owner"}

    @pytest.mark.requirement("PROJECT-LAST-OWNER-01")
    def test_an_owner_can_leave_while_another_owner_remains(
        self,
        client: IndexClient,
        owner: TestAccount,
        project: str,
        make_collaborator,
        mailbox: Mailbox,
    ) -> None:
        second = make_collaborator()
        assert invite(client, project, second.account.username, "Owner") == 303
        assert second.accept(mailbox, project) == 303
        remove(client, project, owner.username, owner.username)
        assert roles(second.client, project) == {second.account.username: "Owner"}


class TestMaintainers:
    @pytest.mark.requirement("PROJECT-MAINTAINER-01")
    def test_a_maintainer_cannot_open_the_settings_or_delete_the_project(
        self, client: IndexClient, project: str, member: Collaborator
    ) -> None:
        assert member.client.get(f"/manage/project/{project}/settings/").status == 403
        token = member.client.csrf_token("/manage/account/")
        answer = member.client.post(
            f"/manage/project/{project}/delete_project/",
            {"csrf_token": token, "confirm_project_name": project},
        )
        assert answer.status == 403
        assert client.get(f"/manage/project/{project}/settings/").status == 200
