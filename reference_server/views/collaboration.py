"""A project's collaborators: invite (by mail), accept, change a role, remove.

Owners invite a user as Owner or Maintainer; the invitation is a signed link mailed to the
invitee, who must be logged in as that user to accept it. Removing a collaborator needs their
username typed again (``confirm_username``), checked on the server, and the project's last
owner cannot be removed or demoted. Owners, and the user concerned, are mailed each change.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from reference_server import projects
from reference_server.auth import (
    absolute_url,
    config,
    email_user,
    find_user,
    login_required,
    now,
    record_event,
    tokens,
)
from reference_server.checks import performs
from reference_server.db import db
from reference_server.models import Project, Role, RoleInvitation, User
from reference_server.tokens import TokenExpired, TokenInvalid
from reference_server.views.manage import user
from reference_server.views.projects import confirmation_error, managed, owned_project

bp = Blueprint("collaboration", __name__)

ROLE_NAMES = (projects.OWNER, projects.MAINTAINER)
SOLE_OWNER = "Cannot remove or demote the project's sole owner"


def collaboration_page(project: Project) -> Response:
    return redirect(url_for("collaboration.collaboration", name=project.name), 303)


def tell(project: Project, also: User | None, subject: str, template: str, **context) -> None:
    """Mail the owners of ``project`` and ``also`` (the user concerned) once each."""
    if not performs("collaborator-notification"):
        return
    recipients = {owner.id: owner for owner in project.owners}
    if also is not None:
        recipients[also.id] = also
    for recipient in recipients.values():
        email_user(recipient, subject, template, project_name=project.name, **context)


def sole_owner(project: Project, role: Role) -> bool:
    """True when ``role`` is the project's only Owner role."""
    owners = [r for r in project.roles if r.role_name == projects.OWNER]
    return performs("last-owner") and owners == [role]


def role_of_project(project: Project) -> Role | None:
    """The project's role named by the posted ``role_id``, or None (another project's too)."""
    role_id = request.form.get("role_id", "")
    return next((r for r in project.roles if str(r.id) == role_id), None)


@bp.route("/manage/project/<name>/collaboration/", methods=["GET", "POST"])
@managed
def collaboration(name: str) -> Response | str:
    """The collaborators and pending invitations; a POST invites ``username`` as ``role_name``."""
    project = owned_project(name)
    if request.method == "GET":
        return render_template("manage_project_collaboration.html", project=project)
    username = request.form.get("username", "").strip()
    role_name = request.form.get("role_name", "")
    invitee = find_user(username)
    error = None
    if role_name not in ROLE_NAMES:
        error = "Select a role: Owner or Maintainer"
    elif invitee is None:
        error = "No user found with that username"
    elif projects.role_of(invitee, project) is not None:
        error = f"User {invitee.username!r} already has a role on this project"
    elif any(i.user_id == invitee.id for i in project.invitations):
        error = f"User {invitee.username!r} already has an invitation to this project"
    elif invitee.primary_email is None or not invitee.primary_email.verified:
        error = f"User {invitee.username!r} does not have a verified primary email address"
    if error:
        flash(error, "error")
        return collaboration_page(project)
    assert invitee is not None
    db().add(
        RoleInvitation(
            user_id=invitee.id, project_id=project.id, role_name=role_name, created=now()
        )
    )
    record_event(user(), "project:role:invite", {"project": project.name, "user": username})
    db().commit()
    token = tokens().dumps("project-role", {"user_id": invitee.id, "project_id": project.id})
    email_user(
        invitee,
        f"Invitation to join {project.name}",
        "role_invitation.txt",
        project_name=project.name,
        role_name=role_name,
        link=absolute_url("collaboration.verify_role", token=token),
    )
    flash(f"Invitation sent to {invitee.username!r}", "success")
    return collaboration_page(project)


@bp.route("/account/verify-project-role/", methods=["GET", "POST"])
@login_required
def verify_role() -> Response | str:
    """The invitee accepts (POST ``accept``) or declines (POST ``decline``) an invitation."""
    invitation = invitation_of_link(request.args.get("token", ""))
    if invitation is None:
        flash("Invalid or expired invitation", "error")
        return redirect(url_for("projects.project_list"), 303)
    if request.method == "GET":
        return render_template("verify_project_role.html", invitation=invitation)
    project, invitee = invitation.project, invitation.user
    db().delete(invitation)
    if "accept" not in request.form:
        db().commit()
        flash(f"Invitation for {project.name!r} declined", "success")
        return redirect(url_for("projects.project_list"), 303)
    db().add(Role(user_id=invitee.id, project_id=project.id, role_name=invitation.role_name))
    record_event(invitee, "project:role:accepted", {"project": project.name})
    db().commit()
    db().refresh(project)
    tell(
        project,
        invitee,
        f"New collaborator on {project.name}",
        "collaborator_role.txt",
        username=invitee.username,
        role_name=invitation.role_name,
    )
    flash(f"You are now {invitation.role_name} of {project.name!r}", "success")
    return redirect(url_for("projects.project_list"), 303)


def invitation_of_link(token: str) -> RoleInvitation | None:
    """The pending invitation of a genuine, fresh link, for the logged-in user only."""
    try:
        payload = tokens().loads("project-role", token, config().role_invitation_max_age)
    except (TokenExpired, TokenInvalid):
        return None
    invitee_id = payload.get("user_id")
    if performs("invitation-owner") and invitee_id != user().id:
        return None
    return (
        db()
        .query(RoleInvitation)
        .filter_by(user_id=invitee_id, project_id=payload.get("project_id"))
        .one_or_none()
    )


@bp.route("/manage/project/<name>/collaboration/change/", methods=["POST"])
@managed
def change_role(name: str) -> Response:
    """Give a collaborator another role (``role_id``, ``role_name``)."""
    project = owned_project(name)
    role = role_of_project(project)
    role_name = request.form.get("role_name", "")
    if role is None or role_name not in ROLE_NAMES:
        flash("Could not find the role", "error")
        return collaboration_page(project)
    if role_name != projects.OWNER and sole_owner(project, role):
        flash(SOLE_OWNER, "error")
        return collaboration_page(project)
    role.role_name = role_name
    record_event(user(), "project:role:change", {"project": project.name, "role": role_name})
    db().commit()
    tell(
        project,
        role.user,
        f"Role changed on {project.name}",
        "collaborator_role.txt",
        username=role.user.username,
        role_name=role_name,
    )
    flash(f"Changed role of {role.user.username!r} to {role_name}", "success")
    return collaboration_page(project)


@bp.route("/manage/project/<name>/collaboration/delete/", methods=["POST"])
@managed
def delete_role(name: str) -> Response:
    """Remove a collaborator (``role_id``) once their username is typed (``confirm_username``)."""
    project = owned_project(name)
    role = role_of_project(project)
    if role is None:
        abort(404)
    removed = role.user
    error = confirmation_error(
        request.form.get("confirm_username", "").strip(), removed.username, "role"
    )
    if not performs("collaborator-removal-confirmation"):
        error = None
    if error is None and sole_owner(project, role):
        error = SOLE_OWNER
    if error:
        flash(error, "error")
        return collaboration_page(project)
    tell(
        project,
        removed,
        f"Collaborator removed from {project.name}",
        "collaborator_removed.txt",
        username=removed.username,
    )
    db().delete(role)
    record_event(user(), "project:role:delete", {"project": project.name, "user": removed.username})
    db().commit()
    flash(f"Removed collaborator {removed.username!r}", "success")
    if removed.id == user().id:
        return redirect(url_for("projects.project_list"), 303)
    return collaboration_page(project)
