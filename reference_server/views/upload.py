"""The legacy upload API that twine speaks: ``POST /legacy/``, multipart, HTTP basic auth.

Authentication is a username and password, or ``__token__`` and an API token. The policy
decides what is enough:

- ``2019-beta``: a password is enough even when the account has 2FA (in 2019 two-factor
  authentication guarded the login step only);
- ``current``: passwords are refused (403) and the token's user must have 2FA.

The first upload of a name creates the project with the uploader as its Owner; later ones
need a role on it, and a project-scoped token works for its project only. Refusals answer
as Warehouse does: the message is the HTTP reason phrase and the body.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import Blueprint, request
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from reference_server import api_tokens, csrf, features, projects
from reference_server.auth import (
    client_ip,
    config,
    find_user,
    now,
    passwords,
    ratelimits,
    record_event,
)
from reference_server.checks import performs
from reference_server.db import db
from reference_server.models import ApiToken, Project, Release, ReleaseFile, Role, User

bp = Blueprint("upload", __name__)

INVALID_AUTH = (
    "Invalid or non-existent authentication information."
    " See https://pypi.org/help/#invalid-auth for more information."
)
PASSWORDS_REFUSED = (
    "Username/Password authentication is no longer supported. Migrate to API Tokens or"
    " Trusted Publishers instead. See https://pypi.org/help/#apitoken"
)
INVALID_TOKEN = "Invalid API Token: the token is not known"
FILE_EXTENSIONS = (".whl", ".tar.gz", ".zip")


class Refused(Exception):
    """An upload refused with an HTTP status and Warehouse's one-line message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def answer(status: int, message: str) -> Response:
    # The reason phrase carries the message, as Warehouse's does, and twine prints it; a status
    # line must be ASCII, so the echoed input is escaped there (the body keeps it as it is).
    reason = " ".join(message.encode("ascii", "backslashreplace").decode("ascii").split())
    return Response(message, status=f"{status} {reason}", mimetype="text/plain")


@bp.errorhandler(Refused)
def refused(error: Refused) -> Response:
    return answer(error.status, str(error))


@bp.route("/legacy/", methods=["POST"])
@csrf.exempt
def upload() -> Response:
    """Store one uploaded file (``:action=file_upload``) of a release."""
    if request.form.get(":action") != "file_upload":
        raise Refused(400, "Invalid :action. Only file_upload is supported.")
    uploader, token = authenticate()
    name = request.form.get("name", "").strip()
    version = request.form.get("version", "").strip()
    if not projects.valid_name(name):
        raise Refused(400, f"Invalid value for name: {name[:60]!r} is not a valid project name")
    if not projects.valid_version(version):
        raise Refused(400, f"Invalid value for version: {version[:60]!r} is not PEP 440")
    content = request.files.get("content")
    if content is None or not content.filename:
        raise Refused(400, "Upload payload does not have a file.")
    project = project_to_upload_to(uploader, token, name)
    store(project, version, content)
    db().commit()
    return answer(200, "OK")


def authenticate() -> tuple[User, ApiToken | None]:
    """The uploading user, and the token they used (None for a password).

    :raises Refused: 403 for missing or wrong credentials, a password the policy refuses, or
        a token whose user lacks the 2FA the policy asks for; 429 after too many failures.
    """
    try:
        credentials = request.authorization
    except ValueError:  # werkzeug's parser refuses a non-ASCII header this way
        credentials = None
    if credentials is None or credentials.type != "basic":
        raise Refused(403, INVALID_AUTH)
    username, secret = credentials.username or "", credentials.password or ""
    if username == api_tokens.TOKEN_USERNAME and features.has("api-tokens"):
        return token_user(secret)
    if config().profile == "current" and performs("password-uploads-refused"):
        raise Refused(403, PASSWORDS_REFUSED)
    limits = ratelimits()
    checks = ((limits.login_ip, client_ip()), (limits.login_user, username.lower()))
    with limits.attempt(*checks) as attempt:
        if attempt.retry_after is not None:
            raise Refused(429, "Too many failed login attempts. Try again later.")
        user = find_user(username)
        if not passwords().verify(user.password if user else None, secret):
            attempt.count()  # counted as the block ends, the Refused included
            raise Refused(403, INVALID_AUTH)
    assert user is not None
    return user, None


def token_user(secret: str) -> tuple[User, ApiToken]:
    """The user of the API token ``secret``; the token's last use is now."""
    if not secret.startswith(api_tokens.PREFIX):
        raise Refused(403, INVALID_TOKEN)
    token = db().scalar(select(ApiToken).where(ApiToken.digest == api_tokens.digest(secret)))
    if token is None:
        raise Refused(403, INVALID_TOKEN)
    if config().profile == "current" and not token.user.has_two_factor:
        raise Refused(
            403,
            f"User {token.user.username!r} does not have two-factor authentication enabled."
            " Please enable two-factor authentication before attempting to upload to PyPI."
            " See https://pypi.org/help#twofa for more information.",
        )
    token.last_used = now()
    return token.user, token


def project_to_upload_to(uploader: User, token: ApiToken | None, name: str) -> Project:
    """The project ``name``, made now with ``uploader`` as Owner when it does not exist.

    :raises Refused: 403 when the uploader has no role on it, or the token is another
        project's (a project-scoped token creates no project).
    """
    project = projects.find_project(name)
    scoped = token is not None and token.project_id is not None and performs("token-project-scope")
    if scoped and (project is None or token.project_id != project.id):
        raise Refused(
            403, f"Invalid API Token: project-scoped token is not valid for project: {name!r}"
        )
    if project is None:
        project = Project(name=name, normalized_name=projects.normalized(name), created=now())
        db().add(project)
        db().flush()
        db().add(Role(user_id=uploader.id, project_id=project.id, role_name=projects.OWNER))
        record_event(uploader, "project:create", {"project": name})
        return project
    if projects.role_of(uploader, project) is None and performs("upload-role"):
        raise Refused(
            403,
            f"The user {uploader.username!r} isn't allowed to upload to project {project.name!r}."
            " See https://pypi.org/help/#project-name for more information.",
        )
    return project


def store(project: Project, version: str, content: FileStorage) -> None:
    """Keep the file's name, size and digest under ``project``'s release ``version``."""
    filename = content.filename or ""
    if "/" in filename or "\\" in filename or not filename.endswith(FILE_EXTENSIONS):
        raise Refused(400, f"Invalid file name {filename[:80]!r}: not a wheel or an sdist")
    if not projects.normalized(filename).startswith(project.normalized_name + "-"):
        raise Refused(400, f"Start filename for {project.name!r} with its name: {filename[:80]!r}")
    data = content.read()
    digest = hashlib.sha256(data).hexdigest()
    claimed = request.form.get("sha256_digest", "").lower()
    if claimed and not hmac.compare_digest(claimed.encode(), digest.encode()):
        raise Refused(
            400, "The digest supplied does not match a digest calculated from the uploaded file."
        )
    if db().scalar(select(ReleaseFile).where(ReleaseFile.filename == filename)) is not None:
        raise Refused(400, f"File already exists ({filename!r}).")
    release = next((r for r in project.releases if r.version == version), None)
    if release is None:
        release = Release(project=project, version=version, created=now())
        db().add(release)
    db().add(
        ReleaseFile(
            release=release, filename=filename, size=len(data), sha256=digest, uploaded=now()
        )
    )
