"""A project's management pages: the projects list, its settings (deleting it), its releases
and one release (deleting it), and its collaborators (inviting and removing them)."""

from __future__ import annotations

from urllib.parse import quote

from playwright.sync_api import Locator, Page

from harness.pages.base import IndexPage
from harness.pages.css import css_string


class ProjectsPage(IndexPage):
    """`/manage/projects/`: the projects the user has a role on."""

    path = "/manage/projects/"

    def lists(self, project: str) -> bool:
        return self.page.locator(f"#projects li[data-project={css_string(project)}]").count() > 0


class ProjectPage(IndexPage):
    """A page of one project, under `/manage/project/<name>/`; subclasses name the page."""

    section = ""

    def __init__(self, page: Page, project: str) -> None:
        super().__init__(page)
        self.project = project
        self.path = f"/manage/project/{quote(project)}/{self.section}"


class _DeletionPage(ProjectPage):
    """A project page with a confirmation box (``form_id``) deleting what it shows once its
    name is typed in ``confirm_field``."""

    form_id = ""
    confirm_field = ""

    @property
    def delete_form(self) -> Locator:
        return self.page.locator(f"form#{self.form_id}")

    @property
    def confirm_box(self) -> Locator:
        """The text box of :attr:`delete_form` the name is typed in."""
        return self.delete_form.locator(f"input[name={self.confirm_field}]")

    def delete(self, typed: str) -> None:
        """Type ``typed`` in the box and press its delete button."""
        self.confirm_box.fill(typed)
        with self.page.expect_navigation():
            self.delete_form.locator("button[type=submit]").click()


class ProjectSettingsPage(_DeletionPage):
    """`/manage/project/<name>/settings/`, with the confirmation box deleting the project."""

    section = "settings/"
    form_id = "delete-project-form"
    confirm_field = "confirm_project_name"


class ReleasesPage(ProjectPage):
    """`/manage/project/<name>/releases/`."""

    section = "releases/"

    def versions(self) -> list[str]:
        return self.page.locator("#releases li[data-version]").evaluate_all(
            "items => items.map(item => item.dataset.version)"
        )


class ReleasePage(_DeletionPage):
    """`/manage/project/<name>/release/<version>/`, with the confirmation box deleting it."""

    form_id = "delete-release-form"
    confirm_field = "confirm_delete_version"

    def __init__(self, page: Page, project: str, version: str) -> None:
        self.section = f"release/{quote(version)}/"
        super().__init__(page, project)
        self.version = version


class CollaborationPage(ProjectPage):
    """`/manage/project/<name>/collaboration/`: collaborators, invitations, the invite form."""

    section = "collaboration/"

    def usernames(self) -> list[str]:
        """The collaborators' usernames (pending invitations not included)."""
        return self.page.locator("#collaborators li[data-username]").evaluate_all(
            "items => items.map(item => item.dataset.username)"
        )

    def invite(self, username: str, role: str = "Maintainer") -> None:
        form = self.page.locator("form#invite-form")
        form.locator("input[name=username]").fill(username)
        form.locator("select[name=role_name]").select_option(role)
        with self.page.expect_navigation():
            form.locator("button[type=submit]").click()

    def removal_form(self, username: str) -> Locator:
        """The confirmation box removing ``username`` (none when they are not listed)."""
        item = f"#collaborators li[data-username={css_string(username)}]"
        return self.page.locator(f"{item} form.delete-role-form")

    def remove(self, username: str, typed: str) -> None:
        """Type ``typed`` as ``username``'s name in their removal box and press Remove."""
        form = self.removal_form(username)
        form.locator("input[name=confirm_username]").fill(typed)
        with self.page.expect_navigation():
            form.locator("button[type=submit]").click()
