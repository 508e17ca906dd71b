"""API tokens of an account: create one (for the whole account or one project), shown once;
list them; remove one with the password.

Like every management page these need a recent authentication and, under the current
policy, two-factor authentication.
"""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from reference_server import api_tokens, projects
from reference_server.auth import email_user, now, passwords, record_event
from reference_server.checks import performs
from reference_server.db import db
from reference_server.models import ApiToken, Project, User
from reference_server.views.manage import no_store, user
from reference_server.views.projects import managed

bp = Blueprint("tokens", __name__)

USER_SCOPE = "scope:user"
PROJECT_SCOPE = "scope:project:"


def tokens_of(account: User) -> list[ApiToken]:
    return list(db().scalars(select(ApiToken).where(ApiToken.user_id == account.id)))


def token_page(
    account: User,
    errors: dict[str, list[str]] | None = None,
    new_token: str | None = None,
) -> Response:
    """The tokens page: the form (with ``errors``), the list, and a ``new_token`` to show."""
    return make_response(
        render_template(
            "manage_tokens.html",
            tokens=tokens_of(account),
            projects=projects.projects_of(account),
            errors=errors or {},
            new_token=new_token,
        )
    )


def chosen_scope(account: User, scope: str) -> tuple[Project | None, str | None]:
    """The project of a ``token_scope`` value (None for the whole account) and an error."""
    if scope == USER_SCOPE:
        return None, None
    if scope.startswith(PROJECT_SCOPE):
        project = projects.find_project(scope.removeprefix(PROJECT_SCOPE))
        if project is not None and projects.role_of(account, project) is not None:
            return project, None
    return None, "Specify the token scope: your account or one of your projects"


@bp.route("/manage/account/token/", methods=["GET", "POST"])
@managed
def token() -> Response:
    """The token form and list; a POST creates a token and shows it this once."""
    account = user()
    if request.method == "GET":
        return token_page(account)
    description = request.form.get("description", "").strip()
    errors: dict[str, list[str]] = {}
    if not description:
        errors["description"] = ["Specify a token name"]
    elif len(description) > api_tokens.MAX_DESCRIPTION:
        errors["description"] = ["Description must be 100 characters or less"]
    elif any(t.description == description for t in tokens_of(account)):
        errors["description"] = ["API token name already in use"]
    project, scope_error = chosen_scope(account, request.form.get("token_scope", ""))
    if scope_error:
        errors["token_scope"] = [scope_error]
    if errors:
        return token_page(account, errors)
    secret = api_tokens.new_token()
    db().add(
        ApiToken(
            user_id=account.id,
            project_id=project.id if project else None,
            description=description,
            digest=api_tokens.digest(secret),
            created=now(),
        )
    )
    scope = project.name if project else "your account"
    record_event(account, "account:api_token:added", {"description": description, "scope": scope})
    db().commit()
    email_user(account, "API token added", "token_added.txt", description=description, scope=scope)
    return no_store(token_page(account, new_token=secret))


@bp.route("/manage/account/token/delete", methods=["POST"])
@managed
def delete_token() -> Response:
    """Remove one of the user's tokens, given the account's password (``confirm_password``)."""
    account = user()
    token_id = request.form.get("macaroon_id", "")
    found = next((t for t in tokens_of(account) if str(t.id) == token_id), None)
    if found is None:
        flash("Invalid API token: it is not one of yours", "error")
        return redirect(url_for("tokens.token"), 303)
    if not passwords().verify(account.password, request.form.get("confirm_password", "")):
        flash("Invalid credentials. Try again", "error")
        return redirect(url_for("tokens.token"), 303)
    if performs("token-removal"):
        db().delete(found)
    record_event(account, "account:api_token:removed", {"description": found.description})
    db().commit()
    email_user(account, "API token removed", "token_removed.txt", description=found.description)
    flash(f"Deleted API token {found.description!r}.", "success")
    return redirect(url_for("tokens.token"), 303)
