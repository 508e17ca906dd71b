"""The harness's pytest plugin: options, markers and the fixtures scenarios use.

It only wires options to fixtures; targets, accounts, mail and the client live in their own
modules. With no ``--base-url`` the session starts the bundled reference server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.accounts import AccountFactory, TestAccount
from harness.client import IndexClient
from harness.errors import HarnessError
from harness.mail import Mailbox
from harness.targets import BundledServer, Profile, Target

MARKERS = {
    "browser": "drives a real browser through the index's pages",
    "protocol": "speaks HTTP to the index directly, sending what a browser might not",
    "destructive": "changes or deletes data a shared staging server may care about",
    "hardware": "needs a real security key and a person to touch it",
    "requirement(*ids)": "the conformance requirement ids the test checks",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "login and 2FA conformance harness")
    group.addoption(
        "--target-profile",
        default="reference",
        help="target profile: a bundled name (reference, reference-2019) or a .toml file;"
        " default: reference",
    )
    group.addoption(
        "--reference-server-path",
        type=Path,
        default=None,
        help="run the reference_server package found in this folder instead of the installed"
        " one (for example a deliberately broken copy, to see the scenarios fail)",
    )


def pytest_configure(config: pytest.Config) -> None:
    for marker, text in MARKERS.items():
        config.addinivalue_line("markers", f"{marker}: {text}")
    try:
        config.stash[_PROFILE] = Profile.load(config.getoption("target_profile"))
    except HarnessError as error:
        raise pytest.UsageError(str(error)) from None


_PROFILE = pytest.StashKey[Profile]()


@pytest.fixture(scope="session")
def target_profile(pytestconfig: pytest.Config) -> Profile:
    """The profile of the target under test."""
    return pytestconfig.stash[_PROFILE]


@pytest.fixture(scope="session")
def target(
    pytestconfig: pytest.Config,
    target_profile: Profile,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Target]:
    """The server under test: ``--base-url``'s, or the bundled one started for this session."""
    base_url = pytestconfig.getoption("base_url", None)
    if base_url:
        yield Target(base_url.rstrip("/"), target_profile, mailbox=None, bundled=False)
        return
    try:
        with BundledServer(
            target_profile,
            tmp_path_factory.mktemp("reference-server"),
            server_path=pytestconfig.getoption("reference_server_path"),
        ) as server:
            assert server.target is not None
            yield server.target
    except HarnessError as error:
        pytest.exit(f"harness: {error}", returncode=2)


@pytest.fixture(scope="session")
def mailbox(target: Target) -> Mailbox:
    """The target's mail, or a skip when the harness cannot read it."""
    if target.mailbox is None:
        pytest.skip("the harness cannot read this target's mail")
    return target.mailbox


@pytest.fixture
def make_client(target: Target) -> Callable[[], IndexClient]:
    """Makes independent HTTP sessions with the target (one per simulated browser)."""
    return lambda: IndexClient(target.base_url)


@pytest.fixture
def client(make_client: Callable[[], IndexClient]) -> IndexClient:
    """A fresh HTTP session with the target."""
    return make_client()


@pytest.fixture
def make_account(target: Target) -> Callable[..., TestAccount]:
    """Makes fresh accounts: ``make_account(totp=True)``, ``make_account(security_key=key)``…"""
    factory = AccountFactory(target)

    def make(**traits: Any) -> TestAccount:
        if target.mailbox is None:
            pytest.skip(
                "making a test account needs the target's mail, which the harness cannot read"
            )
        return factory.create(**traits)

    return make
