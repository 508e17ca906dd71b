"""The harness's pytest plugin: options, markers and the fixtures scenarios use.

It only wires options to fixtures; targets, accounts, mail and the client live in their own
modules. With no ``--base-url`` the session starts the bundled reference server.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

import pytest
from fido2.ctap import CtapDevice
from playwright.sync_api import BrowserType

from harness import browsers, hookspecs
from harness.accounts import AccountFactory, TestAccount
from harness.catalogue import Catalogue, Requirement
from harness.client import IndexClient
from harness.errors import HarnessError
from harness.imap import mailbox_from_environment
from harness.mail import Mailbox
from harness.redaction import Secret, known_secrets
from harness.remote_browser import RemoteBrowser
from harness.report import evidence, labels
from harness.report.scrub import scrub_file, scrub_text, scrub_tree
from harness.safety import destructive_refusal, production_refusal
from harness.sharding import Shard
from harness.staging import (
    AccountGuard,
    TesterCredentials,
    TesterSession,
    credentials_from_environment,
    log_in,
)
from harness.targets import FEATURES, BundledServer, Profile, Target
from virtual_authenticators.hardware import (
    DEFAULT_TOUCH_TIMEOUT,
    HardwareKey,
    NoSecurityKey,
    PersonAtTheKey,
    choose_key,
    plugged_in_keys,
)

MARKERS = {
    "browser": "drives a real browser through the index's pages",
    "protocol": "speaks HTTP to the index directly, sending what a browser might not",
    "destructive": "changes or deletes data a shared staging server may care about",
    "hardware": "needs a real security key and a person to touch it",
    "requirement(*ids)": "the conformance requirement ids the test checks (harness/catalogue.toml)",
    "authenticator(*names)": "the authenticators the test uses (see --authenticator)",
    "needs(*features)": "features the target must have (harness.targets.FEATURES); the test"
    " skips, saying so, on a target whose profile lacks one",
}

AUTHENTICATORS = ("soft", "ctap", "ctap-hid", "cdp", "playwright", "bridge", "hid")
"""What ``--authenticator`` chooses from: the software keys (soft-webauthn's, the CTAP2 device,
the CTAP2 device behind python-fido2's USB HID transport), Chromium's DevTools key,
Playwright's credentials, a Python key bridged into the page, and a plugged-in key (``hid``:
only the ``hardware`` scenarios use it)."""

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
        "--authenticator",
        choices=AUTHENTICATORS,
        default=None,
        help="run the scenarios that run with several authenticators only with this one;"
        " scenarios with one fixed authenticator, or none, run as usual",
    )
    group.addoption(
        "--key",
        type=key_number,
        default=None,
        metavar="N",
        help="with several security keys plugged in, use the N-th (from 1, as"
        " `harness doctor --keys` lists them)",
    )
    group.addoption(
        "--touch-timeout",
        type=positive_seconds,
        default=DEFAULT_TOUCH_TIMEOUT,
        metavar="SECONDS",
        help="how long the hardware scenarios wait for each touch of the key"
        f" (default {DEFAULT_TOUCH_TIMEOUT:g})",
    )
    group.addoption(
        "--browser-ws",
        default=None,
        metavar="URL",
        help="use the browser of the Playwright server at this ws:// or wss:// URL (a browser"
        " grid) instead of launching one; --headed and launch arguments do not apply to it",
    )
    group.addoption(
        "--shard",
        type=shard,
        default=None,
        metavar="I/N",
        help="run only the I-th of N shares of the tests (from 1), the same split on every"
        " machine: `harness report --into` merges the shards' reports",
    )
    group.addoption(
        "--allow-destructive",
        action="store_true",
        help="run the `destructive` scenarios against --base-url too (they always run against the"
        " bundled server, never against the production index)",
    )


def key_number(value: str) -> int:
    """``--key``'s value: a key's number, from 1."""
    if value.isdigit() and int(value) >= 1:
        return int(value)
    raise argparse.ArgumentTypeError(f"a key's number, from 1, not {value!r}")


def shard(value: str) -> Shard:
    """``--shard``'s value: ``I/N``."""
    try:
        return Shard.parse(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def positive_seconds(value: str) -> float:
    """``--touch-timeout``'s value: seconds above 0."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if seconds > 0:
        return seconds
    raise argparse.ArgumentTypeError(f"a number of seconds above 0, not {value!r}")


def pytest_configure(config: pytest.Config) -> None:
    for marker, text in MARKERS.items():
        config.addinivalue_line("markers", f"{marker}: {text}")
    config.pluginmanager.register(_browser_source(config), "harness.browser-source")
    if config.getoption("disable_check") and config.getoption("base_url", None):
        raise pytest.UsageError("--disable-check applies to the bundled server, not --base-url")
    try:
        profile = Profile.load(config.getoption("target_profile"))
    except HarnessError as error:
        raise pytest.UsageError(str(error)) from None
    bundled = not config.getoption("base_url", None)
    config.stash[_PROFILE] = profile.for_bundled_server() if bundled else profile


def _browser_source(config: pytest.Config) -> object:
    """The plugin that gives pytest-playwright its browser: the remote one of ``--browser-ws``,
    which reaches a bundled server on this machine through the connection
    (``<loopback>``), or one launched here."""
    browser_ws = config.getoption("browser_ws")
    if not browser_ws:
        return SystemBrowser()
    bundled = not config.getoption("base_url", None)
    try:
        remote = RemoteBrowser(browser_ws, expose_network="<loopback>" if bundled else None)
    except HarnessError as error:
        raise pytest.UsageError(str(error)) from None
    return remote.plugin()


_PROFILE = pytest.StashKey[Profile]()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Skip the ``destructive`` tests where they must not run (harness/safety.py), and those
    that need a feature the target lacks. Then trace
    each test to the catalogue: refuse unknown ids, select by ``--requirement``, and skip a test
    when none of its requirements applies to the target's policy."""
    _skip_refused_destructive(config, items)
    _skip_what_the_target_lacks(config.stash[_PROFILE], items)
    _keep_chosen_authenticator(config, items)
    _keep_shard(config, items)
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
        requirements = tuple(catalogue[requirement_id] for requirement_id in ids)
        item.stash[REQUIREMENTS] = requirements
        # Reports (JUnit properties, and the run's summary through Allure) carry the ids.
        item.user_properties.append(("requirements", " ".join(ids)))
        suite = labels.suite_of(item.nodeid)
        if suite is not None:
            for mark in labels.allure_marks(requirements, suite):
                item.add_marker(mark)
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


def _keep_shard(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the tests of the other shards (``--shard I/N``)."""
    shard: Shard | None = config.getoption("shard")
    if shard is None:
        return
    deselected = [item for item in items if not shard.holds(item.nodeid)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if shard.holds(item.nodeid)]


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


def pytest_collection_finish(session: pytest.Session) -> None:
    """End the run, before any test sends a request, when ``destructive`` tests are left
    selected against the production index, whatever the flags.

    A pytest-xdist worker cannot end the run from here (xdist takes it for a crash); there the
    tests stay skipped as :func:`_skip_refused_destructive` marked them, sending nothing.

    :raises pytest.UsageError: one line, naming the host and how to deselect them.
    """
    if hasattr(session.config, "workerinput"):
        return
    production = production_refusal(session.config.getoption("base_url", None))
    destructive = [i for i in session.items if i.get_closest_marker("destructive") is not None]
    if production is not None and destructive:
        raise pytest.UsageError(
            f"{production}; {len(destructive)} selected, deselect them with -m 'not destructive'"
        )


def _skip_what_the_target_lacks(profile: Profile, items: list[pytest.Item]) -> None:
    """Mark skipped, with the reason, the items that need a feature ``profile`` lacks.

    :raises pytest.UsageError: a ``needs`` marker names no feature, or an unknown one.
    """
    for item in items:
        for marker in item.iter_markers("needs"):
            unknown = [name for name in marker.args if name not in FEATURES]
            if not marker.args or unknown:
                raise pytest.UsageError(
                    f"{item.nodeid}: needs() takes features among {', '.join(FEATURES)}"
                )
            reasons = [reason for reason in map(profile.lacking, marker.args) if reason]
            if reasons:
                item.add_marker(pytest.mark.skip(reason=reasons[0]))


def _keep_chosen_authenticator(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the tests marked with authenticators none of which is ``--authenticator``."""
    chosen = config.getoption("authenticator")
    if chosen is None:
        return

    def uses(item: pytest.Item) -> set[str]:
        return {name for mark in item.iter_markers("authenticator") for name in mark.args}

    deselected = [item for item in items if uses(item) and chosen not in uses(item)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        gone = set(deselected)
        items[:] = [item for item in items if item not in gone]


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


class SystemBrowser:
    """Overrides pytest-playwright's ``browser_type_launch_args``; registered in
    ``pytest_configure``, after pytest-playwright, so that its fixture is the one used."""

    @pytest.fixture(scope="session")
    @classmethod
    def browser_type_launch_args(
        cls, browser_type_launch_args: dict, browser_type: BrowserType
    ) -> dict:
        """pytest-playwright's launch arguments, plus the system's Chromium when Playwright
        has none of its own (its headless shell unless ``--headed``)."""
        headless = browser_type_launch_args.get("headless", True)
        try:
            extra = browsers.launch_args(browser_type, headless=headless)
            return {**browser_type_launch_args, **extra}
        except HarnessError as error:
            pytest.exit(f"harness: {error}", returncode=2)


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
        try:
            mail = mailbox_from_environment(os.environ)
        except HarnessError as error:
            pytest.exit(f"harness: {error}", returncode=2)
        yield Target(
            base_url.rstrip("/"),
            target_profile,
            mailbox=mail,
            bundled=False,
            pacer=target_profile.pacer(),
        )
        if mail is not None:
            mail.close()
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


@pytest.fixture(scope="session")
def tester_login(target: Target) -> TesterSession:
    """The tester's own account (``HARNESS_USERNAME``…), logged in once for this process; on
    the bundled server, an account made to stand in for it (TOTP on, as a tester's would be).
    Skips when a remote target has no tester account given."""
    try:
        credentials = credentials_from_environment(os.environ)
    except HarnessError as error:
        pytest.exit(f"harness: {error}", returncode=2)
    if credentials is None:
        if not target.bundled:
            pytest.skip(
                "needs the tester's account on this target: set HARNESS_USERNAME,"
                " HARNESS_PASSWORD and HARNESS_TOTP_SECRET (or HARNESS_ENV_FILE)"
            )
        account = AccountFactory(target).create(totp=True)
        assert account.totp is not None
        credentials = TesterCredentials(
            account.username, Secret(account.password), Secret(account.totp.secret)
        )
    client = target.client()
    try:
        log_in(client, credentials)
    except HarnessError as error:
        pytest.exit(f"harness: {error}", returncode=2)
    return TesterSession(credentials, client)


@pytest.fixture
def tester(target: Target, tester_login: TesterSession) -> Iterator[TesterSession]:
    """The tester's account, logged in on a fresh client; after the test it is restored to what
    it was before (what the test added is removed), and what could not be restored fails the
    test's teardown, one line each."""
    assert tester_login.client.session_id is not None
    client = target.client()
    client.use_session_id(tester_login.client.session_id)
    password, tokens = tester_login.credentials.password, not target.profile.lacks("api_tokens")
    with AccountGuard(client, password, api_tokens=tokens) as guard:
        yield TesterSession(tester_login.credentials, client, api_tokens=tokens)
    if guard.unrestored:
        pytest.fail(
            "the tester's account was not left as it was: " + "; ".join(guard.unrestored),
            pytrace=False,
        )


@pytest.fixture
def make_client(target: Target) -> Callable[[], IndexClient]:
    """Makes independent HTTP sessions with the target (one per simulated browser)."""
    return target.client


@pytest.fixture
def client(make_client: Callable[[], IndexClient]) -> IndexClient:
    """A fresh HTTP session with the target."""
    return make_client()


@pytest.fixture
def make_account(target: Target) -> Callable[..., TestAccount]:
    """Makes fresh accounts: ``make_account(totp=True)``, ``make_account(security_key=key)``…"""
    factory = AccountFactory(target)

    def make(**traits: Any) -> TestAccount:
        needed = ["registration"] + [f for t, f in ACCOUNT_FEATURES.items() if traits.get(t)]
        for feature in needed:
            reason = target.profile.lacking(feature)
            if reason is not None:
                pytest.skip(reason)
        if target.mailbox is None:
            pytest.skip(
                "making a test account needs the target's mail, which the harness cannot read"
            )
        return factory.create(**traits)

    return make


ACCOUNT_FEATURES = {"recovery_codes": "recovery_codes", "totp": "totp", "security_key": "webauthn"}
"""The traits ``make_account`` takes that need a feature of the target's, and that feature."""

_PHASES = pytest.StashKey[dict[str, pytest.TestReport]]()
_CONSOLE = pytest.StashKey[evidence.ConsoleLog]()


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


@pytest.hookimpl(trylast=True)
def pytest_harness_security_keys(config: pytest.Config) -> list[CtapDevice]:
    """The keys plugged in, as the OS lists them.

    :raises NoSecurityKey: the OS would not list them.
    """
    return list(plugged_in_keys())


@pytest.fixture(scope="session")
def plugged_in_security_keys(pytestconfig: pytest.Config) -> Iterator[list[CtapDevice]]:
    """The security keys the hardware scenarios choose from (see
    :func:`harness.hookspecs.pytest_harness_security_keys`), closed at the end. Skips, saying
    why, when the OS will not list them."""
    try:
        keys = pytestconfig.hook.pytest_harness_security_keys(config=pytestconfig)
    except NoSecurityKey as error:
        pytest.skip(str(error))
    yield keys
    for key in keys:
        key.close()


@pytest.fixture(scope="session")
def security_key_device(
    pytestconfig: pytest.Config, plugged_in_security_keys: list[CtapDevice]
) -> CtapDevice:
    """The plugged-in key the ``hardware`` scenarios use (``--key N`` among several).

    They skip, saying why, when there is none, and when there is one but ``--authenticator
    hid`` was not asked for: each of them waits for a person to touch the key.
    """
    chosen = _choose_key_or_skip(plugged_in_security_keys, pytestconfig.getoption("key"))
    if pytestconfig.getoption("authenticator") != "hid":
        pytest.skip(
            "a security key is plugged in, but the hardware scenarios wait for its touch: run"
            " them with --authenticator hid"
        )
    return chosen


def _choose_key_or_skip(keys: list[CtapDevice], number: int | None) -> CtapDevice:
    try:
        return choose_key(keys, number)
    except NoSecurityKey as error:
        pytest.skip(str(error))


@pytest.fixture(scope="session")
def tester_at_the_key(pytestconfig: pytest.Config) -> Iterator[PersonAtTheKey]:
    """The tester, asked on their terminal (``/dev/tty``, past pytest's capture and past
    ``harness run``'s log), with the key's PIN from ``HARNESS_KEY_PIN`` if set."""
    pin = os.environ.get("HARNESS_KEY_PIN") or None
    with _tester_terminal(pytestconfig) as terminal:
        yield PersonAtTheKey(
            terminal,
            timeout=pytestconfig.getoption("touch_timeout"),
            pin=Secret(pin) if pin else None,
        )


@contextlib.contextmanager
def _tester_terminal(config: pytest.Config) -> Iterator[TextIO]:
    try:
        terminal = open("/dev/tty", "w", encoding="utf-8")  # noqa: SIM115
    except OSError:
        yield _UncapturedStderr(config)
        return
    with terminal:
        yield terminal


class _UncapturedStderr:
    """Standard error with pytest's capture suspended for each write: where prompts go when
    there is no controlling terminal."""

    def __init__(self, config: pytest.Config) -> None:
        self._capture = config.pluginmanager.getplugin("capturemanager")

    def write(self, text: str) -> int:
        suspended = self._capture.global_and_fixture_disabled() if self._capture else None
        with suspended or contextlib.nullcontext():
            return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


@pytest.fixture
def hardware_key(security_key_device: CtapDevice, tester_at_the_key: PersonAtTheKey) -> HardwareKey:
    """The plugged-in key as an authenticator, with the tester asked at each touch."""
    return HardwareKey(security_key_device, tester_at_the_key)


@pytest.fixture(autouse=True)
def _browser_console(request: pytest.FixtureRequest) -> Iterator[None]:
    """For a test with a browser, records the console of every context it opens (kept as
    evidence if it fails). Autouse fixtures are set up first, so no context is missed."""
    if "browser" not in request.fixturenames:
        yield
        return
    browser = request.getfixturevalue("browser")
    log = request.node.stash[_CONSOLE] = evidence.ConsoleLog()
    new_context = browser.new_context

    def watched_context(*args: Any, **kwargs: Any) -> Any:
        context = new_context(*args, **kwargs)
        log.watch(context)
        return context

    browser.new_context = watched_context
    yield
    del browser.new_context


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_makereport(item: pytest.Item) -> Iterator[None]:
    """Keeps each phase's report for the evidence hook; starts a failure's text with the
    requirements it breaks and their severities (Allure's categories read them); scrubs the
    secrets this process knows out of a failure's text and output (JUnit XML and the terminal
    show them)."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    item.stash.setdefault(_PHASES, {})[report.when] = report
    browser = getattr(item, "funcargs", {}).get("browser")
    if browser is not None and report.when != "teardown":
        evidence.keep_cookies_secret(browser.contexts)
    if report.failed:
        # Only a failure's text and output reach JUnit and the terminal; Allure's files are
        # scrubbed at the end (pytest_sessionfinish), so passing tests cost nothing here.
        secrets = known_secrets()
        broken = ", ".join(f"{r.id} [{r.severity}]" for r in item.stash.get(REQUIREMENTS, ()))
        text = f"checks {broken}\n\n{report.longreprtext}" if broken else report.longreprtext
        report.longrepr = scrub_text(text, secrets)
        report.sections = [
            (title, scrub_text(content, secrets)) for title, content in report.sections
        ]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    """After a failure, keeps the browser's evidence before the contexts close: a screenshot of
    each open page (secrets masked) and the console; once they have closed, Playwright's
    traces (pytest-playwright's ``--tracing``), scrubbed."""
    phases = item.stash.get(_PHASES, {})
    failed = any(report.failed for report in phases.values())
    folder_name = item.funcargs.get("output_path") if hasattr(item, "funcargs") else None
    folder = Path(folder_name) if folder_name else None
    if failed and folder is not None and "browser" in item.funcargs:
        folder.mkdir(parents=True, exist_ok=True)
        evidence.keep_screenshots(item.funcargs["browser"].contexts, folder)
        if _CONSOLE in item.stash:
            evidence.keep_console_log(item.stash[_CONSOLE], folder)
    yield
    if failed and folder is not None and folder.is_dir():
        evidence.keep_traces(folder)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Last thing of each process's session (JUnit XML is written by then): scrub the secrets it
    made out of every report file. An xdist worker does it before telling the controller it has
    finished, so the run cannot end while it is still at it."""
    config = session.config
    results = config.getoption("allure_report_dir", None)
    written = [
        results,
        config.getoption("xmlpath", None),
        config.getoption("output", None) if results else None,
    ]
    for path in map(Path, filter(None, written)):
        if path.is_dir():
            scrub_tree(path, known_secrets())
        elif path.is_file():
            scrub_file(path, known_secrets())
