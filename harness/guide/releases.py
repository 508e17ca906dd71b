"""The test projects of the destructive journeys: made by uploading tiny wheels with twine, as
a maintainer would, with an API token made for the upload on the account's tokens page (in the
browser, logged in as the tester) and removed as soon as twine is done.

The token never leaves this module but to twine's environment (:mod:`harness.uploads` masks it
in twine's output); the wheels are built in a temporary folder, not the report folder.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Sequence
from pathlib import Path

from playwright.sync_api import Page

from harness.pages import ApiTokensPage, ReauthenticateForm
from harness.uploads import build_wheel, twine_upload

PREFIX = "guide-test-"
"""How the guide's test projects are named: this, then a random suffix."""


def new_project_name() -> str:
    """A fresh test project's name, unlikely to be taken."""
    return PREFIX + secrets.token_hex(4)


def upload_releases(page: Page, password: str, project: str, versions: Sequence[str]) -> str | None:
    """Upload ``versions`` of ``project`` as the account logged in on ``page`` (``password``
    confirms the tokens page when it asks), making the project if it is new.

    :return: None when twine uploaded them all and the upload token was removed; else what
        went wrong, one line without the token.
    """
    description = f"guide upload {project}"
    tokens = ApiTokensPage(page)
    tokens.open()
    ReauthenticateForm(page).confirm_if_asked(password)
    token = tokens.create(description)
    if token is None:
        said = "; ".join(tokens.flashes("error") + tokens.field_errors("description"))
        return f"The tokens page made no token: {said or 'no reason shown'}."
    origin = page.evaluate("() => location.origin")
    try:
        with tempfile.TemporaryDirectory(prefix="guide-wheels-") as folder:
            wheels = [build_wheel(Path(folder), project, version) for version in versions]
            result = twine_upload(f"{origin}/legacy/", "__token__", token, wheels)
    finally:
        tokens.open()
        ReauthenticateForm(page).confirm_if_asked(password)
        if tokens.lists(description):
            tokens.remove(description, password)
    if not result.succeeded:
        lines = result.output.strip().splitlines() or ["no output"]
        return f"twine could not upload {project}: {lines[-1]}"
    if tokens.lists(description):
        return f"The upload token '{description}' is still listed: remove it on your tokens page."
    return None
