"""Fixtures of the fuzz pass: what its requesters are made with; where Hypothesis keeps its
caches."""

import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from harness.accounts import TestAccount
from harness.client import IndexClient
from harness.mail import Mailbox
from harness.targets import Profile
from scenarios.security.requesters import Setup


def pytest_configure(config: pytest.Config) -> None:
    # Even without an example database, Hypothesis caches its Unicode tables and the constants
    # it reads from the source in ./.hypothesis: keep them out of the working tree.
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "pypi-2fa-harness-hypothesis")


@pytest.fixture
def requester_setup(
    make_account: Callable[..., TestAccount],
    make_client: Callable[[], IndexClient],
    mailbox: Mailbox,
    target_profile: Profile,
) -> Setup:
    """The plugin's account and client factories, the mailbox and the profile, together."""
    return Setup(make_account, make_client, mailbox, target_profile)
