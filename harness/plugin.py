"""The harness's pytest plugin: options, markers and the fixtures scenarios use.

It only wires options to fixtures; targets, accounts, mail and the client live in their own
modules. With no ``--base-url`` the session starts the bundled reference server.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.accounts import AccountFactory, TestAccount
from harness.catalogue import Catalogue, Requirement
from harness.client import IndexClient
from harness.errors import HarnessError
from harness.mail import Mailbox
from harness.safety import destructive_refusal
from harness.targets import BundledServer, Profile, Target

MARKERS = {
    "browser": "drives a real browser through the index's pages",
    "protocol": "speaks HTTP to the index directly, sending what a browser might not",
    "destructive": "changes or deletes data a shared staging server may care about",
    "hardware": "needs a real security key and a person to touch it",
    "requirement(*ids)": "the conformance requirement ids the test checks (harness/catalogue.toml)",
}

REQUIREMENTS = pytest.StashKey[tuple[Requirement, ...]]()
"""The requirements a collected test checks, in the order its markers name them."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "login and 2FA conformance harness")
    group.addoption(
        "--target-profile",
        default="reference",
        help="target profile: a bundled name (reference, reference-2019) or a .toml file;"
        " default: reference",
    )
    group.addoption(
        "--disable-check",
        action="append",
        default=[],
        metavar="NAME",
        help="start the bundled server with this security check turned off (repeatable), to see"
        " the scenarios catch it missing; `reference-server --list-checks` names them",
    )
    group.addoption(
        "--requirement",
        action="append",
        default=[],
        metavar="ID",
        help="run only the tests that check this requirement (repeatable); `harness catalogue`"
        " lists the ids",
    )
    group.addoption(
        "--catalogue",
        type=Path,
        default=None,
        metavar="PATH",
        help="the requirements catalogue (default: the bundled harness/catalogue.toml)",
    )
    group.addoption(
        "--allow-destructive",
        action="store_true",
        help="run the `destructive` scenarios against --base-url too (they always run against the"
        " bundled server, never against the production index)",
    )


def pytest_configure(config: pytest.Config) -> None:
    for marker, text in MARKERS.items():
        config.addinivalue_line("markers", f"{marker}: {text}")
    if config.getoption("disable_check") and config.getoption("base_url", None):
        raise pytest.UsageError("--disable-check applies to the bundled server, not --base-url")
    try:
        config.stash[_PROFILE] = Profile.load(config.getoption("target_profile"))
    except HarnessError as error:
        raise pytest.UsageError(str(error)) from None


_PROFILE = pytest.StashKey[Profile]()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Skip the ``destructive`` tests where they must not run (harness/safety.py). Then trace
    each test to the catalogue: refuse unknown ids, select by ``--requirement``, and skip a test
    when none of its requirements applies to the target's policy."""
    _skip_refused_destructive(config, items)
    named = {item: _requirement_ids(item) for item in items}
    selected = config.getoption("requirement")
    if not selected and not any(named.values()):
        return  # nothing to trace: the catalogue is not even read
    catalogue = _catalogue(config)
    unknown = [
        f"{item.nodeid}: {requirement_id}"
        for item, ids in named.items()
        for requirement_id in ids
        if requirement_id not in catalogue
    ]
    unknown += [f"--requirement {rid}" for rid in selected if rid not in catalogue]
    if unknown:
        raise pytest.UsageError(
            "requirement ids not in the catalogue (`harness catalogue` lists them):\n  "
            + "\n  ".join(unknown)
        )
    for item, ids in named.items():
        item.stash[REQUIREMENTS] = tuple(catalogue[requirement_id] for requirement_id in ids)
    if selected:
        kept = [item for item in items if set(named[item]) & set(selected)]
        deselected = [item for item in items if not set(named[item]) & set(selected)]
        if deselected:
            config.hook.pytest_deselected(items=deselected)
            items[:] = kept
    policy = config.stash[_PROFILE].policy
    for item in items:
        requirements = item.stash.get(REQUIREMENTS, ())
        if requirements and not any(r.applies_to(policy) for r in requirements):
            ids = ", ".join(r.id for r in requirements)
            item.add_marker(pytest.mark.skip(reason=f"{ids}: not in the {policy} policy"))


def _skip_refused_destructive(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the ``destructive`` items skipped, with the reason, when the target refuses them."""
    reason = destructive_refusal(
        config.getoption("base_url", None), config.getoption("allow_destructive")
    )
    if reason is None:
        return
    for item in items:
        if item.get_closest_marker("destructive") is not None:
            item.add_marker(pytest.mark.skip(reason=reason))


def _requirement_ids(item: pytest.Item) -> tuple[str, ...]:
    """The ids named by the item's ``requirement`` markers, each once, in order.

    :raises pytest.UsageError: a marker names no id, or something that is not a string.
    """
    ids: list[str] = []
    for marker in item.iter_markers("requirement"):
        if not marker.args or not all(isinstance(arg, str) for arg in marker.args):
            raise pytest.UsageError(f"{item.nodeid}: requirement() needs one or more id strings")
        ids += [arg for arg in marker.args if arg not in ids]
    return tuple(ids)


def _catalogue(config: pytest.Config) -> Catalogue:
    try:
        return Catalogue.load(config.getoption("catalogue"))
    except HarnessError as error:
        raise pytest.UsageError(str(error)) from None


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
            disabled_checks=pytestconfig.getoption("disable_check"),
        ) as server:
            assert server.target is not None
            yield server.target
    except HarnessError as error:
        pytest.exit(f"harness: {error}", returncode=2)


@pytest.fixture
def start_bundled_server(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[Profile], Target]]:
    """Starts another bundled server, with a profile of the scenario's choosing and the same
    checks disabled as the session's; each stops when the test ends."""
    with contextlib.ExitStack() as servers:

        def start(profile: Profile) -> Target:
            server = BundledServer(
                profile,
                tmp_path_factory.mktemp("reference-server"),
                disabled_checks=pytestconfig.getoption("disable_check"),
            )
            try:
                servers.enter_context(server)
            except HarnessError as error:
                pytest.exit(f"harness: {error}", returncode=2)
            assert server.target is not None
            return server.target

        yield start


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
