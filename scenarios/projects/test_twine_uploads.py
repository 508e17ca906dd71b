"""Uploads with twine to the legacy API: API tokens, their scope, and what 2FA guards."""

import pytest

from harness.accounts import TestAccount
from harness.client import API_TOKENS, IndexClient
from scenarios.projects.conftest import Upload, new_project_name

# Uploads create projects: on a shared server that is a change to leave to the tester.
pytestmark = [pytest.mark.protocol, pytest.mark.destructive, pytest.mark.needs("uploads")]


def refused_with_403(output: str) -> bool:
    return "403" in output


@pytest.mark.needs("api_tokens")
class TestTokenUploads:
    @pytest.mark.requirement("UPLOAD-TOKEN-01")
    def test_an_account_token_uploads_a_new_project_owned_by_the_uploader(
        self, owner: TestAccount, client: IndexClient, upload: Upload
    ) -> None:
        name = new_project_name()
        token = client.create_api_token("everything", owner.password)
        result = upload("__token__", token, name)
        assert result.succeeded, result.output
        assert name in client.get("/manage/projects/").texts("#projects .project-name")

    @pytest.mark.requirement("UPLOAD-TOKEN-02")
    def test_a_project_token_uploads_to_its_own_project(
        self, owner: TestAccount, client: IndexClient, upload: Upload, project: str
    ) -> None:
        token = client.create_api_token("one", owner.password, f"scope:project:{project}")
        result = upload("__token__", token, project, "2.0")
        assert result.succeeded, result.output

    @pytest.mark.requirement("UPLOAD-TOKEN-02")
    def test_a_project_token_is_refused_for_another_project(
        self, owner: TestAccount, client: IndexClient, upload: Upload, project: str
    ) -> None:
        token = client.create_api_token("one", owner.password, f"scope:project:{project}")
        result = upload("__token__", token, new_project_name())
        assert not result.succeeded
        assert refused_with_403(result.output), result.output

    @pytest.mark.requirement("UPLOAD-TOKEN-03")
    def test_a_removed_token_is_refused_at_once(
        self, owner: TestAccount, client: IndexClient, upload: Upload, project: str
    ) -> None:
        token = client.create_api_token("short-lived", owner.password)
        assert upload("__token__", token, project, "2.0").succeeded
        assert client.remove_api_token("short-lived", owner.password).status == 303
        result = upload("__token__", token, project, "3.0")
        assert not result.succeeded
        assert refused_with_403(result.output), result.output

    @pytest.mark.requirement("UPLOAD-TOKEN-04")
    def test_a_token_is_not_shown_again_after_it_was_made(
        self, owner: TestAccount, client: IndexClient
    ) -> None:
        token = client.create_api_token("shown once", owner.password)
        page = client.get(API_TOKENS)
        assert "shown once" in page.texts("#api-tokens .token-description")
        assert token not in page.response.text


class TestPasswordUploads:
    @pytest.mark.requirement("UPLOAD-PASSWORD-01")
    def test_a_password_upload_is_refused(self, owner: TestAccount, upload: Upload) -> None:
        result = upload(owner.username, owner.password, new_project_name())
        assert not result.succeeded
        assert refused_with_403(result.output), result.output

    @pytest.mark.requirement("TWOFA-SCOPE-2019-01")
    def test_a_password_upload_needs_no_second_factor(
        self, owner: TestAccount, upload: Upload
    ) -> None:
        result = upload(owner.username, owner.password, new_project_name())
        assert result.succeeded, result.output

    @pytest.mark.requirement("TWOFA-SCOPE-2019-01")
    def test_a_password_upload_with_a_wrong_password_is_refused(
        self, owner: TestAccount, upload: Upload
    ) -> None:
        result = upload(owner.username, owner.password + "x", new_project_name())
        assert not result.succeeded
        assert refused_with_403(result.output), result.output


@pytest.mark.needs("api_tokens")
class TestManagementNeedsTwoFactor:
    @pytest.mark.requirement("MANAGE-2FA-01")
    def test_tokens_page_sends_a_user_without_two_factor_to_set_it_up(
        self, make_account, client: IndexClient
    ) -> None:
        account = make_account()
        client.login(account.username, account.password)
        page = client.get(API_TOKENS)
        assert (page.status, page.location) == (303, "/manage/account/two-factor/")

    @pytest.mark.requirement("MANAGE-2FA-01")
    def test_tokens_page_opens_for_a_user_with_two_factor(
        self, owner: TestAccount, client: IndexClient
    ) -> None:
        page = client.get(API_TOKENS)
        assert page.status == 200
        assert page.has("form#add-token-form")
