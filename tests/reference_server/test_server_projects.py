"""Uploads, API tokens and project deletion, in process (the scenarios test them over HTTP)."""

from __future__ import annotations

import base64
import io
import re

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from tests.reference_server.conftest import PASSWORD, Flow


def upload(
    app: Flask, username: str, password: str, name: str = "demo", version: str = "1.0"
) -> TestResponse:
    """POST one wheel of ``name`` ``version`` to /legacy/ as twine does."""
    credentials = base64.b64encode(f"{username}:{password}".encode()).decode()
    filename = f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    return app.test_client().post(
        "/legacy/",
        data={
            ":action": "file_upload",
            "name": name,
            "version": version,
            "content": (io.BytesIO(b"not really a wheel"), filename),
        },
        headers={"Authorization": f"Basic {credentials}"},
    )


def new_token(flow: Flow, scope: str = "scope:user", description: str = "ci") -> str:
    page = flow.post("/manage/account/token/", {"description": description, "token_scope": scope})
    assert page.status_code == 200, page.get_data(as_text=True)
    found = re.search(r'<code id="provisioned-token">([^<]+)</code>', page.get_data(as_text=True))
    assert found
    return found.group(1)


@pytest.fixture
def old_policy(make_flow) -> Flow:
    """A user with TOTP, logged in, on a server with the 2019 beta policy."""
    flow = make_flow(profile="2019-beta")
    flow.full_setup()
    assert flow.login_with_totp().status_code == 303
    return flow


@pytest.fixture
def current_policy(make_flow) -> Flow:
    """A user with TOTP, logged in, on a server with the current policy."""
    flow = make_flow()
    flow.full_setup()
    assert flow.login_with_totp().status_code == 303
    return flow


class TestPasswordUploads:
    def test_the_2019_policy_takes_a_password_even_with_two_factor_on(self, old_policy) -> None:
        response = upload(old_policy.app, old_policy.username, PASSWORD)
        assert response.status_code == 200
        page = old_policy.client.get("/manage/projects/").get_data(as_text=True)
        assert 'data-project="demo"' in page

    def test_the_current_policy_refuses_passwords(self, current_policy) -> None:
        response = upload(current_policy.app, current_policy.username, PASSWORD)
        assert response.status_code == 403
        assert "no longer supported" in response.status

    def test_a_wrong_password_is_refused(self, old_policy) -> None:
        assert upload(old_policy.app, old_policy.username, PASSWORD + "x").status_code == 403


class TestTokens:
    def test_a_token_uploads_and_is_shown_only_once(self, current_policy) -> None:
        token = new_token(current_policy)
        assert upload(current_policy.app, "__token__", token).status_code == 200
        page = current_policy.client.get("/manage/account/token/").get_data(as_text=True)
        assert token not in page
        assert 'data-description="ci"' in page

    def test_a_project_token_is_refused_for_another_project(self, current_policy) -> None:
        assert upload(current_policy.app, "__token__", new_token(current_policy)).status_code == 200
        scoped = new_token(current_policy, "scope:project:demo", "demo only")
        assert upload(current_policy.app, "__token__", scoped, version="2.0").status_code == 200
        refused = upload(current_policy.app, "__token__", scoped, name="other")
        assert refused.status_code == 403
        assert "not valid for project" in refused.status

    def test_a_removed_token_is_refused_at_once(self, current_policy) -> None:
        token = new_token(current_policy)
        page = current_policy.client.get("/manage/account/token/").get_data(as_text=True)
        token_id = re.search(r'name="macaroon_id" value="(\d+)"', page).group(1)
        removed = current_policy.post(
            "/manage/account/token/delete", {"macaroon_id": token_id, "confirm_password": PASSWORD}
        )
        assert removed.status_code == 303
        assert upload(current_policy.app, "__token__", token).status_code == 403

    def test_the_current_policy_refuses_a_token_of_a_user_without_two_factor(
        self, make_flow, make_app
    ) -> None:
        flow = make_flow(profile="2019-beta")
        assert flow.register().status_code == 303
        assert flow.verify_email().status_code == 303
        token = new_token(flow)
        response = upload(make_app(), "__token__", token)
        assert response.status_code == 403
        assert "two-factor" in response.status

    def test_token_pages_need_two_factor_under_the_current_policy(self, make_flow) -> None:
        flow = make_flow()
        assert flow.register().status_code == 303
        response = flow.client.get("/manage/account/token/")
        assert response.status_code == 303
        assert response.headers["Location"] == "/manage/account/two-factor/"


class TestDeletion:
    @pytest.fixture
    def released(self, old_policy) -> Flow:
        assert upload(old_policy.app, old_policy.username, PASSWORD).status_code == 200
        old_policy.mail.messages.clear()
        return old_policy

    def test_a_release_is_deleted_only_with_its_version_typed_again(self, released) -> None:
        path = "/manage/project/demo/release/1.0/"
        wrong = released.post(path, {"confirm_delete_version": "1.1"})
        assert wrong.status_code == 303
        assert released.client.get(path).status_code == 200
        right = released.post(path, {"confirm_delete_version": "1.0"})
        assert right.headers["Location"] == "/manage/project/demo/releases/"
        assert released.client.get(path).status_code == 404
        assert released.mail.subjects() == ["Release deleted"]

    def test_a_project_is_deleted_only_with_its_name_typed_again(self, released) -> None:
        delete = "/manage/project/demo/delete_project/"
        assert released.post(delete, {"confirm_project_name": "dem"}).status_code == 303
        assert released.client.get("/manage/project/demo/settings/").status_code == 200
        assert released.post(delete, {"confirm_project_name": "demo"}).status_code == 303
        assert released.client.get("/manage/project/demo/settings/").status_code == 404
        assert released.mail.subjects() == ["Project deleted"]

    def test_another_users_project_is_not_found(self, released, make_flow) -> None:
        other = make_flow(profile="2019-beta")
        other.username, other.email = "mallory", "mallory@example.com"
        assert other.register().status_code == 303
        assert other.client.get("/manage/project/demo/settings/").status_code == 404
        refused = other.post(
            "/manage/project/demo/delete_project/", {"confirm_project_name": "demo"}
        )
        assert refused.status_code == 404


def role_id_of(flow: Flow, username: str) -> str:
    """The id of ``username``'s role on "demo", from the collaboration page."""
    page = flow.client.get("/manage/project/demo/collaboration/").get_data(as_text=True)
    found = re.search(
        rf'data-username="{username}".*?name="role_id" value="(\d+)"', page, re.DOTALL
    )
    assert found, page
    return found.group(1)


class TestCollaboration:
    @pytest.fixture
    def team(self, old_policy: Flow, make_flow) -> tuple[Flow, Flow, str]:
        """The owner of "demo", and bob, its Maintainer by invitation; the role id of bob."""
        assert upload(old_policy.app, old_policy.username, PASSWORD).status_code == 200
        bob = make_flow(profile="2019-beta")
        bob.username, bob.email = "bob", "bob@example.com"
        assert bob.register().status_code == 303
        assert bob.verify_email().status_code == 303
        invited = old_policy.post(
            "/manage/project/demo/collaboration/", {"username": "bob", "role_name": "Maintainer"}
        )
        assert invited.status_code == 303
        link = old_policy.mail.link("Invitation to join demo")
        assert bob.client.get(link).status_code == 200
        assert bob.post(link, {"accept": "1"}).status_code == 303
        return old_policy, bob, role_id_of(old_policy, "bob")

    def test_an_accepted_invitation_lets_the_maintainer_upload(self, team) -> None:
        _, bob, _ = team
        assert upload(bob.app, "bob", PASSWORD, version="2.0").status_code == 200

    def test_an_owner_can_make_a_maintainer_an_owner(self, team) -> None:
        owner, bob, role_id = team
        changed = owner.post(
            "/manage/project/demo/collaboration/change/",
            {"role_id": role_id, "role_name": "Owner"},
        )
        assert changed.status_code == 303
        assert bob.client.get("/manage/project/demo/settings/").status_code == 200

    def test_the_sole_owner_cannot_be_demoted(self, team) -> None:
        owner, _, _ = team
        own_id = role_id_of(owner, owner.username)
        owner.post(
            "/manage/project/demo/collaboration/change/",
            {"role_id": own_id, "role_name": "Maintainer"},
        )
        assert owner.client.get("/manage/project/demo/settings/").status_code == 200

    def test_a_declined_invitation_gives_no_role(self, old_policy: Flow, make_flow) -> None:
        assert upload(old_policy.app, old_policy.username, PASSWORD).status_code == 200
        carol = make_flow(profile="2019-beta")
        carol.username, carol.email = "carol", "carol@example.com"
        assert carol.register().status_code == 303
        assert carol.verify_email().status_code == 303
        old_policy.post(
            "/manage/project/demo/collaboration/", {"username": "carol", "role_name": "Owner"}
        )
        link = old_policy.mail.link("Invitation to join demo")
        assert carol.post(link, {"decline": "1"}).status_code == 303
        assert upload(carol.app, "carol", PASSWORD, version="2.0").status_code == 403


@pytest.mark.parametrize(
    "header", ["Basic \x80", "Basic ###", "Basic", "Bearer abc", "Basic " + "A" * 5000]
)
def test_a_malformed_authorization_header_is_refused_with_403(app: Flask, header: str) -> None:
    """Found by the fuzz pass: a non-ASCII header used to give 500."""
    response = app.test_client().post(
        "/legacy/", data={":action": "file_upload"}, headers={"Authorization": header}
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "fields",
    [{"name": "ā"}, {"name": "demo", "version": "1.0ā"}, {"sha256_digest": "é"}],
    ids=["non-ascii-name", "non-ascii-version", "non-ascii-digest"],
)
def test_non_ascii_fields_are_refused_with_400(old_policy: Flow, fields: dict[str, str]) -> None:
    """Found by the fuzz pass: these used to give 500 (a non-ASCII reason phrase, and
    hmac.compare_digest on non-ASCII text)."""
    credentials = base64.b64encode(f"{old_policy.username}:{PASSWORD}".encode()).decode()
    data = {":action": "file_upload", "name": "demo", "version": "1.0", **fields}
    data["content"] = (io.BytesIO(b"x"), "demo-1.0-py3-none-any.whl")
    response = old_policy.app.test_client().post(
        "/legacy/", data=data, headers={"Authorization": f"Basic {credentials}"}
    )
    assert response.status_code == 400
