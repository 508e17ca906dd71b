"""Project management: the list, settings (delete the project) and releases (delete one).

Destructive actions ask the user to type the name again (``confirm_project_name``,
``confirm_delete_version``) and the server checks it again, whatever the page's JavaScript
did. Every page here needs a recent authentication and, under the current policy, two-factor
authentication; a project is reachable only by a user with a role on it (404 otherwise), and
deleting needs the Owner role (403 for a Maintainer).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from reference_server import projects
from reference_server.auth import (
    config,
    email_user,
    login_required,
    record_event,
    require_reauth,
)
from reference_server.checks import performs
from reference_server.db import db
from reference_server.models import ApiToken, Project, Release, User
from reference_server.views.manage import user

bp = Blueprint("projects", __name__)

TWO_FACTOR_REQUIRED = (
    "Two-factor authentication must be enabled on your account to perform this action."
)
CONFIRM_THE_REQUEST = "Confirm the request"


def two_factor_enforced(account: User) -> bool:
    """True when the policy (current) requires 2FA and ``account`` has none."""
    return (
        config().profile == "current"
        and not account.has_two_factor
        and performs("management-needs-2fa")
    )


def two_factor_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Under the current policy, users without 2FA are sent (303) to the two-factor page."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if two_factor_enforced(user()):
            flash(TWO_FACTOR_REQUIRED, "error")
            return redirect(url_for("manage.account_two_factor"), 303)
        return view(*args, **kwargs)

    return wrapped


def managed(view: Callable[..., Any]) -> Callable[..., Any]:
    """The guards of every project page: login, recent authentication, 2FA per policy."""
    return login_required(require_reauth("reauth_max_age")(two_factor_required(view)))


def owned_project(name: str) -> Project:
    """The project ``name`` when the user owns it: 404 without a role, 403 as a Maintainer."""
    project = projects.find_project(name)
    role = projects.role_of(user(), project) if project is not None else None
    if project is None or (role is None and performs("project-role")):
        abort(404)
    if role != projects.OWNER and performs("project-role"):
        abort(403)
    return project


def confirmation_error(typed: str, expected: str, what: str) -> str | None:
    """The flash for a typed confirmation that is empty or differs from ``expected``."""
    if not typed:
        return CONFIRM_THE_REQUEST
    if typed != expected:
        return f"Could not delete {what} - {typed!r} is not the same as {expected!r}"
    return None


def tell_owners(project: Project, subject: str, template: str, **context: Any) -> None:
    """Mail every owner of ``project`` (before it goes)."""
    if not performs("owner-notification"):
        return
    for owner in project.owners:
        email_user(owner, subject, template, project_name=project.name, **context)


@bp.route("/manage/projects/")
@login_required
def project_list() -> str:
    """The user's projects; under the current policy, without 2FA, only a notice."""
    account = user()
    return render_template(
        "manage_projects.html",
        projects=projects.projects_of(account),
        two_factor_missing=two_factor_enforced(account),
        message=TWO_FACTOR_REQUIRED,
    )


@bp.route("/manage/project/<name>/settings/")
@managed
def settings(name: str) -> str:
    """The project's settings: the delete-project form."""
    return render_template("manage_project_settings.html", project=owned_project(name))


@bp.route("/manage/project/<name>/delete_project/", methods=["POST"])
@managed
def delete_project(name: str) -> Response:
    """Delete the project once its name is typed again; tell its owners."""
    project = owned_project(name)
    typed = request.form.get("confirm_project_name", "").strip()
    error = confirmation_error(
        projects.normalized(typed) if typed else "", project.normalized_name, "project"
    )
    if not performs("project-delete-confirmation"):
        error = None
    if error:
        flash(error, "error")
        return redirect(url_for("projects.settings", name=project.name), 303)
    tell_owners(project, "Project deleted", "project_deleted.txt")
    for owner in project.owners:
        record_event(owner, "project:delete", {"project": project.name})
    db().query(ApiToken).filter(ApiToken.project_id == project.id).delete()
    db().delete(project)
    db().commit()
    flash(f"Deleted the project {project.name!r}", "success")
    return redirect(url_for("projects.project_list"), 303)


@bp.route("/manage/project/<name>/releases/")
@managed
def releases(name: str) -> str:
    """The project's releases, newest last."""
    return render_template("manage_project_releases.html", project=owned_project(name))


@bp.route("/manage/project/<name>/release/<version>/", methods=["GET", "POST"])
@managed
def release(name: str, version: str) -> Response | str:
    """A release's files and, on POST, its deletion once the version is typed again."""
    project = owned_project(name)
    found = next((r for r in project.releases if r.version == version), None)
    if found is None:
        abort(404)
    if request.method == "GET":
        return render_template("manage_project_release.html", project=project, release=found)
    typed = request.form.get("confirm_delete_version", "").strip()
    error = confirmation_error(typed, found.version, "release")
    if not performs("release-delete-confirmation"):
        error = None
    if error:
        flash(error, "error")
        return redirect(url_for("projects.release", name=project.name, version=version), 303)
    delete_release(project, found)
    flash(f"Deleted release {found.version!r}", "success")
    return redirect(url_for("projects.releases", name=project.name), 303)


def delete_release(project: Project, doomed: Release) -> None:
    """Remove ``doomed`` and its files, mail the owners, record the event; commits."""
    tell_owners(project, "Release deleted", "release_deleted.txt", version=doomed.version)
    for owner in project.owners:
        record_event(
            owner, "project:release:delete", {"project": project.name, "version": doomed.version}
        )
    db().delete(doomed)
    db().commit()
