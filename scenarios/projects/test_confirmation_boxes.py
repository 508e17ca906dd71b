"""The confirmation boxes of destructive actions in a real browser: each says what will be
lost, and its button stays disabled until the typed name matches. Nothing is submitted: what
the index does with a typed name is in test_deletion.py and test_collaboration.py."""

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from harness.client import IndexClient
from harness.mail import Mailbox
from harness.pages import CollaborationPage, ProjectSettingsPage, ReleasePage
from scenarios.projects.conftest import invite

pytestmark = [pytest.mark.browser, pytest.mark.destructive]

CANNOT_BE_UNDONE = re.compile(r"cannot\s+be\s+undone", re.IGNORECASE)


@pytest.fixture
def owner_page(page: Page, client: IndexClient, project: str) -> Page:
    """``page``, logged in as the owner of ``project`` is on ``client``."""
    page.context.add_cookies(client.browser_cookies())
    return page


def assert_the_button_waits_for_the_exact_name(form: Locator, field: str, name: str) -> None:
    box, button = form.locator(f"input[name={field}]"), form.locator("button[type=submit]")
    expect(button).to_be_disabled()
    for typed in (name[:-1], name + "x", " " + name):
        box.fill(typed)
        expect(button).to_be_disabled()
    box.fill(name)
    expect(button).to_be_enabled()
    box.fill("")
    expect(button).to_be_disabled()


@pytest.mark.requirement("PROJECT-CONFIRM-04")
def test_the_project_deletion_box_warns_and_waits_for_the_projects_name(
    owner_page: Page, project: str
) -> None:
    settings = ProjectSettingsPage(owner_page, project)
    settings.open()
    expect(owner_page.locator("body")).to_contain_text(CANNOT_BE_UNDONE)
    form = settings.delete_form
    assert_the_button_waits_for_the_exact_name(form, "confirm_project_name", project)


@pytest.mark.requirement("PROJECT-CONFIRM-04")
def test_the_release_deletion_box_warns_and_waits_for_the_version(
    owner_page: Page, project: str
) -> None:
    release = ReleasePage(owner_page, project, "1.0")
    release.open()
    expect(owner_page.locator("body")).to_contain_text(CANNOT_BE_UNDONE)
    assert_the_button_waits_for_the_exact_name(release.delete_form, "confirm_delete_version", "1.0")


@pytest.mark.requirement("PROJECT-CONFIRM-04")
def test_the_collaborator_removal_box_names_who_loses_access_and_waits_for_their_name(
    owner_page: Page, client: IndexClient, project: str, make_collaborator, mailbox: Mailbox
) -> None:
    collaborator = make_collaborator()
    username = collaborator.account.username
    assert invite(client, project, username) == 303
    assert collaborator.accept(mailbox, project) == 303
    collaboration = CollaborationPage(owner_page, project)
    collaboration.open()
    form = collaboration.removal_form(username)
    expect(form).to_contain_text(username)
    assert_the_button_waits_for_the_exact_name(form, "confirm_username", username)
