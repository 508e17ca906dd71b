"""Projects, releases and roles: names, look-ups and what a user may do with them.

Names follow the packaging specifications Warehouse follows: a project name is PEP 508's
(letters, digits, ``.``, ``_``, ``-``, starting and ending with a letter or digit) and is
matched in PEP 503's normalised form; a version must parse under PEP 440.
"""

from __future__ import annotations

import re

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from sqlalchemy import select

from reference_server.db import db
from reference_server.models import Project, Role, User

OWNER = "Owner"
MAINTAINER = "Maintainer"
MAX_NAME = 200
_PROJECT_NAME = re.compile(r"[a-z0-9]([a-z0-9._-]*[a-z0-9])?", re.IGNORECASE | re.ASCII)


def normalized(name: str) -> str:
    """PEP 503's form of a project name (what two spellings of one project share)."""
    return canonicalize_name(name)


def valid_name(name: str) -> bool:
    """True for a PEP 508 project name of at most 200 characters."""
    return len(name) <= MAX_NAME and _PROJECT_NAME.fullmatch(name) is not None


def valid_version(version: str) -> bool:
    """True for a PEP 440 version of at most 100 characters."""
    if len(version) > 100:
        return False
    try:
        Version(version)
    except InvalidVersion:
        return False
    return True


def find_project(name: str) -> Project | None:
    """The project called ``name`` in any spelling PEP 503 equates, or None."""
    if not valid_name(name):
        return None
    return db().scalar(select(Project).where(Project.normalized_name == normalized(name)))


def role_of(user: User, project: Project) -> str | None:
    """``user``'s role on ``project`` (``Owner``, ``Maintainer``), or None."""
    return next((r.role_name for r in project.roles if r.user_id == user.id), None)


def projects_of(user: User) -> list[Project]:
    """The projects ``user`` has a role on, by name."""
    return list(
        db().scalars(
            select(Project)
            .join(Role, Role.project_id == Project.id)
            .where(Role.user_id == user.id)
            .order_by(Project.normalized_name)
        )
    )
