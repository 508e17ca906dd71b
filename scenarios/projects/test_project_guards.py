"""Every project management action is guarded alike: the session's CSRF token, a recent
login, and a role on the project. Each guard is checked on each action, and each refusal
must leave the project as it was."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from harness.client import REAUTH_FORM, HtmlPage, IndexClient
from harness.targets import Profile
from scenarios.projects.conftest import Collaborator, collaboration_of, roles

pytestmark = [pytest.mark.protocol, pytest.mark.destructive]


@dataclass(frozen=True)
class Scene:
    """The project an action is tried on, its Maintainer, and a user with no role on it."""

    project: str
    member: str
    outsider: str


@dataclass(frozen=True)
class Action:
    """A management action: the page holding its form, the form, the fields a person types,
    and how to tell (as the owner) that nothing changed."""

    name: str
    page: Callable[[Scene], str]
    form: Callable[[Scene], str]
    fields: Callable[[Scene], dict[str, str]]
    unchanged: Callable[[IndexClient, Scene], bool]


def member_form(kind: str) -> Callable[[Scene], str]:
    return lambda s: f'#collaborators li[data-username="{s.member}"] form.{kind}'


def settings(s: Scene) -> str:
    return f"/manage/project/{s.project}/settings/"


def release(s: Scene) -> str:
    return f"/manage/project/{s.project}/release/1.0/"


def opens(path: Callable[[Scene], str]) -> Callable[[IndexClient, Scene], bool]:
    return lambda client, s: client.get(path(s)).status == 200


ACTIONS = [
    Action(
        "delete-project",
        settings,
        lambda s: "form#delete-project-form",
        lambda s: {"confirm_project_name": s.project},
        opens(settings),
    ),
    Action(
        "delete-release",
        release,
        lambda s: "form#delete-release-form",
        lambda s: {"confirm_delete_version": "1.0"},
        opens(release),
    ),
    Action(
        "invite",
        lambda s: collaboration_of(s.project),
        lambda s: "form#invite-form",
        lambda s: {"username": s.outsider, "role_name": "Owner"},
        lambda client, s: (
            not client.get(collaboration_of(s.project)).has(
                f'#invitations li[data-username="{s.outsider}"]'
            )
        ),
    ),
    Action(
        "change-role",
        lambda s: collaboration_of(s.project),
        member_form("change-role-form"),
        lambda s: {"role_name": "Owner"},
        lambda client, s: roles(client, s.project).get(s.member) == "Maintainer",
    ),
    Action(
        "remove-collaborator",
        lambda s: collaboration_of(s.project),
        member_form("delete-role-form"),
        lambda s: {"confirm_username": s.member},
        lambda client, s: s.member in roles(client, s.project),
    ),
]


@pytest.fixture
def scene(project: str, member: Collaborator, make_account) -> Scene:
    return Scene(project, member.account.username, make_account().username)


def form_of(client: IndexClient, action: Action, scene: Scene) -> tuple[HtmlPage, str]:
    """The owner's page holding the action's form, and the form's selector."""
    page = client.get(action.page(scene))
    assert page.status == 200, f"{action.page(scene)} answered {page.status}"
    return page, action.form(scene)


@pytest.mark.parametrize("action", ACTIONS, ids=lambda action: action.name)
class TestEveryAction:
    @pytest.mark.requirement("PROJECT-CSRF-01")
    def test_without_the_csrf_token_it_is_refused(
        self, client: IndexClient, scene: Scene, action: Action
    ) -> None:
        page, form = form_of(client, action, scene)
        path, values = page.form_fields(form)
        values.pop("csrf_token")
        assert client.post(path, {**values, **action.fields(scene)}).status == 400
        assert action.unchanged(client, scene)

    @pytest.mark.requirement("PROJECT-REAUTH-01")
    def test_a_stale_login_is_asked_for_the_password_first(
        self,
        client: IndexClient,
        scene: Scene,
        action: Action,
        server_clock,
        target_profile: Profile,
    ) -> None:
        page, form = form_of(client, action, scene)
        server_clock(target_profile.ages.reauthenticate + 60)
        answer = client.submit_page(page, form, **action.fields(scene))
        assert answer.status == 200
        assert answer.has(REAUTH_FORM)
        server_clock(0)
        assert action.unchanged(client, scene)

    @pytest.mark.requirement("PROJECT-OWNER-01")
    def test_a_user_without_a_role_is_refused(
        self, client: IndexClient, scene: Scene, action: Action, make_collaborator
    ) -> None:
        page, form = form_of(client, action, scene)
        path, values = page.form_fields(form)
        intruder = make_collaborator().client
        values["csrf_token"] = intruder.csrf_token("/manage/account/")
        assert intruder.post(path, {**values, **action.fields(scene)}).status == 404
        assert action.unchanged(client, scene)

    @pytest.mark.requirement("PROJECT-CSRF-01", "PROJECT-REAUTH-01", "PROJECT-OWNER-01")
    def test_the_owner_with_a_fresh_login_and_the_token_succeeds(
        self, client: IndexClient, scene: Scene, action: Action
    ) -> None:
        page, form = form_of(client, action, scene)
        answer = client.submit_page(page, form, **action.fields(scene))
        assert answer.status == 303
        assert client.follow(answer).flashes("error") == []
        assert not action.unchanged(client, scene)
