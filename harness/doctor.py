"""``harness doctor``: check everything a run needs, and say what is missing and how to fix it.

Each check is one function returning a :class:`Finding`; :func:`run` runs them in turn and
prints one line per check as it completes. A check never raises: whatever goes wrong inside one
becomes a ``missing`` finding naming the error. Only the mail check handles a secret (the
IMAP password), and its lines never show it.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import requests
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from harness.browsers import launch_args
from harness.errors import HarnessError, MailboxError, ProfileError
from harness.imap import mailbox_from_environment
from harness.report import allure_html
from harness.staging import credentials_from_environment
from harness.targets import PROFILE_NAMES, BundledServer, Profile

DISTRIBUTION = "pypi-2fa-harness"
PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
BROWSERS = ("chromium", "firefox", "webkit")
TARGET_TIMEOUT = 10.0
MAX_REDIRECTS = 5
BROWSER_LAUNCH_TIMEOUT_MS = 60_000
NODE_MINIMUM = 18
# The bundled server always listens on localhost (harness.targets.BundledServer).
BUNDLED_ORIGIN = "http://localhost"
SETUP_FIX = "pip install -e . (or ./tasks run, which sets up)"

Status = Literal["ok", "missing", "warning"]


@dataclass(frozen=True)
class Finding:
    """What one check found.

    :param status: ``ok``; ``missing``, a run cannot work (the doctor exits 1); ``warning``, a
        run works with less (a report page, a skipped group of scenarios).
    :param detail: one line saying what was found.
    :param fix: what to do about it, or None when there is nothing to do.
    """

    name: str
    status: Status
    detail: str
    fix: str | None = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the doctor's options to ``parser``."""
    parser.add_argument(
        "--base-url",
        metavar="URL",
        help="the target's URL; default: start the bundled reference server on localhost",
    )
    parser.add_argument(
        "--target-profile",
        default="reference",
        metavar="NAME|FILE",
        help=f"target profile: {', '.join(PROFILE_NAMES)} or a .toml file (default: reference)",
    )
    parser.add_argument(
        "--browser",
        choices=BROWSERS,
        default="chromium",
        help="the browser to launch (default: chromium)",
    )
    parser.add_argument(
        "--browser-ws",
        default=None,
        metavar="URL",
        help="check the browser of this Playwright server (a grid) instead of launching one",
    )
    parser.add_argument(
        "--keys",
        action="store_true",
        help="also look for plugged-in security keys and list them",
    )


def run(args: argparse.Namespace) -> int:
    """Run every check, printing one line each; 0 when nothing a run needs is missing, else 1."""
    findings: list[Finding] = []

    def report(finding: Finding) -> None:
        findings.append(finding)
        print(format_finding(finding), flush=True)

    report(_guarded("python packages", check_packages))
    if args.browser_ws:
        bundled = not args.base_url
        report(_guarded("browser", check_remote_browser, args.browser_ws, args.browser, bundled))
    else:
        report(_guarded("browser", check_browser, args.browser))
    report(_guarded("node", check_node))
    report(_guarded("html report", check_allure_cli))
    if args.base_url:
        report(_guarded("target", check_remote_target, args.base_url))
        origin = args.base_url
    else:
        try:
            finding, started_at = check_bundled_server(args.target_profile)
        except Exception as error:
            finding, started_at = _unexpected("target", error), None
        report(finding)
        origin = started_at or BUNDLED_ORIGIN
    report(_guarded("origin", check_origin, origin))
    report(_guarded("mail", check_mail, args.base_url))
    report(_guarded("account", check_tester_account, args.base_url))
    if args.keys:
        report(_guarded("security keys", check_keys))
    return 1 if any(finding.status == "missing" for finding in findings) else 0


def format_finding(finding: Finding) -> str:
    """One line: the status, the check's name, what it found, and the fix when not ok."""
    line = f"{finding.status:<8} {finding.name}: {_one_line(finding.detail)}"
    if finding.status != "ok" and finding.fix:
        line += f". Fix: {_one_line(finding.fix)}"
    return line


# Python packages


def check_packages() -> Finding:
    """Every requirement of the installed harness (and of pyproject.toml, when run from a
    checkout whose file declares more than was installed) is installed at a fitting version."""
    name = "python packages"
    try:
        installed = _requirements(metadata.requires(DISTRIBUTION) or [])
    except metadata.PackageNotFoundError:
        return Finding(
            name,
            "missing",
            f"{DISTRIBUTION} is not installed in this Python ({sys.executable})",
            SETUP_FIX,
        )
    declared = _declared_requirements()
    # Requirement strings are normalised (specifiers sorted), so equal ones compare equal.
    known = {str(requirement) for requirement in installed}
    newer = [requirement for requirement in declared if str(requirement) not in known]
    wanted = installed + newer
    problems = [problem for problem in map(_unmet, wanted) if problem]
    counted = f"{len(wanted) - len(problems)} of {len(wanted)} installed"
    if problems:
        return Finding(name, "missing", f"{counted}; {', '.join(problems)}", SETUP_FIX)
    versions = ", ".join(
        f"{package} {metadata.version(package)}" for package in ("pytest", "playwright", "fido2")
    )
    detail = f"{counted} ({versions}, …)"
    if newer:
        lacking = ", ".join(requirement.name for requirement in newer)
        return Finding(
            name,
            "warning",
            f"{detail}; but the installed {DISTRIBUTION} predates pyproject.toml (lacks {lacking})",
            SETUP_FIX,
        )
    return Finding(name, "ok", detail)


def _requirements(lines: list[str]) -> list[Requirement]:
    """The requirements among ``lines`` that apply here: no extras, markers that hold."""
    requirements = []
    for line in lines:
        requirement = Requirement(line)
        if requirement.marker is not None:
            if "extra" in str(requirement.marker):
                continue
            if not requirement.marker.evaluate():
                continue
        requirements.append(requirement)
    return requirements


def _declared_requirements() -> list[Requirement]:
    """The dependencies pyproject.toml declares, when the harness runs from its checkout."""
    try:
        project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8")).get("project", {})
        if project.get("name") != DISTRIBUTION:
            return []
        return _requirements(list(project.get("dependencies", [])))
    except (OSError, tomllib.TOMLDecodeError, InvalidRequirement):
        return []


def _unmet(requirement: Requirement) -> str | None:
    """Why ``requirement`` is not met, or None when it is."""
    try:
        version = metadata.version(requirement.name)
    except metadata.PackageNotFoundError:
        return f"{canonicalize_name(requirement.name)} not installed"
    if requirement.specifier and not requirement.specifier.contains(version, prereleases=True):
        return f"{requirement.name} {version} installed, {requirement.specifier} needed"
    return None


# Browser


def check_browser(browser: str) -> Finding:
    """Launch ``browser`` headless through Playwright and read its version."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    name = "browser"
    install = _browser_fix(browser)
    with sync_playwright() as playwright:
        browser_type = getattr(playwright, browser)
        own = Path(browser_type.executable_path)
        try:
            extra = launch_args(browser_type)
        except HarnessError as error:
            return Finding(name, "missing", str(error), install)
        if not extra and not own.exists():
            return Finding(
                name,
                "missing",
                f"Playwright's {browser} is not installed (no {own})",
                install,
            )
        try:
            launched = browser_type.launch(
                headless=True, timeout=BROWSER_LAUNCH_TIMEOUT_MS, **extra
            )
        except PlaywrightError as error:
            return Finding(
                name, "missing", f"{browser} does not start: {_first_line(error)}", install
            )
        try:
            version = launched.version
        finally:
            launched.close()
    if extra.get("executable_path"):
        binary = f"{extra['executable_path']}, the system's; Playwright has none of its own"
    else:
        binary = f"Playwright's own, {own}"
    return Finding(name, "ok", f"{browser.capitalize()} {version} ({binary})")


def check_remote_browser(url: str, browser: str, bundled_target: bool) -> Finding:
    """Connect to ``browser`` on the Playwright server at ``url`` and read its version; a
    bundled target is reached from there through the connection (``<loopback>``)."""
    from harness.remote_browser import RemoteBrowserError, remote_browser_version

    expose = "<loopback>" if bundled_target else None
    try:
        version = remote_browser_version(url, browser, expose_network=expose)
    except RemoteBrowserError as error:
        return Finding(
            "browser", "missing", str(error), "start the Playwright server, or fix the URL"
        )
    return Finding("browser", "ok", f"{browser.capitalize()} {version} (remote, at {url})")


def _browser_fix(browser: str) -> str:
    if browser == "chromium":
        return "playwright install chromium, or on Debian apt-get install chromium"
    return f"playwright install {browser} (and playwright install-deps {browser} as root)"


# Node


def check_node() -> Finding:
    """Node.js, which the HTML report needs; without it the report is a plainer page."""
    name = "node"
    fallback = "the HTML report falls back to the conformance-matrix page"
    fix = f"install Node.js {NODE_MINIMUM} or newer"
    node = shutil.which("node")
    if node is None:
        return Finding(name, "warning", f"not found; {fallback}", fix)
    try:
        answer = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError) as error:
        return Finding(name, "warning", f"{node} --version fails ({error}); {fallback}", fix)
    version = answer.stdout.strip()
    try:
        major = int(version.lstrip("v").split(".")[0])
    except ValueError:
        return Finding(name, "warning", f"{node} says {version!r}, not a version; {fallback}", fix)
    if major < NODE_MINIMUM:
        return Finding(name, "warning", f"Node.js {version} ({node}) is too old; {fallback}", fix)
    return Finding(name, "ok", f"Node.js {version} ({node})")


def check_allure_cli() -> Finding:
    """Allure 3's command-line tool, which renders the HTML report (it runs on Node)."""
    name = "html report"
    command = allure_html.allure_command()
    if command is None:
        return Finding(
            name,
            "warning",
            "Allure 3's CLI is not installed (or Node is missing); index.html will be the"
            " conformance-matrix page",
            "npm ci --prefix harness/report/allure (./tasks run does it when npm is present)",
        )
    return Finding(name, "ok", f"Allure 3's CLI ({command[-1]})")


# Target


def check_remote_target(base_url: str) -> Finding:
    """The server named by ``--base-url`` answers HTTP."""
    name = "target"
    fix = "check --base-url and that the server is up"
    started = time.monotonic()
    with requests.Session() as session:
        session.max_redirects = MAX_REDIRECTS
        try:
            response = session.get(base_url, timeout=TARGET_TIMEOUT)
        except requests.RequestException as error:
            return Finding(name, "missing", f"{base_url} is unreachable ({_reason(error)})", fix)
    elapsed = _milliseconds(started)
    redirected = f", redirected to {response.url}" if response.history else ""
    detail = f"{base_url} answers HTTP {response.status_code} in {elapsed}{redirected}"
    if response.status_code >= 500:
        return Finding(name, "warning", f"{detail}, a server error", "look at the server's logs")
    return Finding(name, "ok", detail)


def check_bundled_server(profile_name: str) -> tuple[Finding, str | None]:
    """Start the bundled reference server with the profile ``profile_name`` and fetch ``/``.

    :return: the finding, and the server's base URL when it started.
    """
    name = "target"
    try:
        profile = Profile.load(profile_name)
    except ProfileError as error:
        return (
            Finding(
                name,
                "missing",
                str(error),
                f"use --target-profile {' or '.join(PROFILE_NAMES)}, or a .toml file's path",
            ),
            None,
        )
    workdir = Path(tempfile.mkdtemp(prefix="harness-doctor-"))
    log = workdir / "server.log"
    started = time.monotonic()
    try:
        with BundledServer(profile, workdir) as server:
            assert server.target is not None
            base_url = server.target.base_url
            try:
                response = requests.get(f"{base_url}/", timeout=TARGET_TIMEOUT)
            except requests.RequestException as error:
                return (
                    Finding(
                        name,
                        "missing",
                        f"the bundled reference server started at {base_url} but does not"
                        f" answer ({_reason(error)})",
                        f"read its log, {log}",
                    ),
                    base_url,
                )
            elapsed = _milliseconds(started)
    except HarnessError as error:
        return Finding(name, "missing", str(error), f"read its log, {log}"), None
    shutil.rmtree(workdir, ignore_errors=True)
    detail = (
        f"bundled reference server starts ({elapsed}; profile {profile.name},"
        f" {base_url}/ answers HTTP {response.status_code})"
    )
    if response.status_code != 200:
        return Finding(name, "missing", detail, f"read its log, {log}"), base_url
    return Finding(name, "ok", detail), base_url


def _reason(error: requests.RequestException) -> str:
    """Why a request failed, in a few words."""
    if isinstance(error, requests.exceptions.SSLError):
        inner = next(_causes(error, ssl.SSLError), None)
        reason = getattr(inner, "verify_message", None) or getattr(inner, "reason", None)
        return f"TLS error: {reason or _first_line(error)}"
    if isinstance(error, requests.exceptions.Timeout):
        return f"no answer within {TARGET_TIMEOUT:g} s"
    if isinstance(error, requests.exceptions.TooManyRedirects):
        return f"more than {MAX_REDIRECTS} redirects"
    if isinstance(
        error,
        requests.exceptions.MissingSchema
        | requests.exceptions.InvalidSchema
        | requests.exceptions.InvalidURL,
    ):
        return "not an http:// or https:// URL"
    if next(_causes(error, ConnectionRefusedError), None) is not None:
        return "connection refused"
    if next(_causes(error, socket.gaierror), None) is not None or "NameResolution" in repr(error):
        return "the host name does not resolve"
    if next(_causes(error, ConnectionResetError), None) is not None:
        return "connection reset"
    inner = next(_causes(error, OSError), None)
    if inner is not None and getattr(inner, "strerror", None):
        return inner.strerror.lower()
    return _first_line(error)


def _causes(error: BaseException, kind: type[BaseException]) -> Iterator[Any]:
    """The exceptions of ``kind`` behind ``error``: its causes, contexts, the ``reason`` urllib3
    keeps, and exceptions among its arguments."""
    seen: set[int] = set()
    pending: list[object] = [error]
    while pending:
        current = pending.pop(0)
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, kind) and current is not error:
            yield current
        pending.extend([current.__cause__, current.__context__, getattr(current, "reason", None)])
        pending.extend(current.args)


# Origin


def check_origin(url: str) -> Finding:
    """The origin can be a WebAuthn relying party: a secure context with a domain RP ID."""
    name = "origin"
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme not in ("http", "https") or not host:
        return Finding(
            name, "missing", f"{url} is not an http:// or https:// URL", "check --base-url"
        )
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        port = f":{parts.port}" if parts.port else ""
        return Finding(
            name,
            "missing",
            f"{url}: WebAuthn refuses IP addresses as relying party ids",
            f"use {parts.scheme}://localhost{port}",
        )
    if parts.scheme == "https":
        return Finding(name, "ok", f"{url}: a secure context, RP ID {host}")
    if host == "localhost" or host.endswith(".localhost"):
        return Finding(name, "ok", f"{url}: localhost is a secure context, RP ID {host}")
    return Finding(
        name,
        "missing",
        f"{url}: browsers allow WebAuthn only in a secure context: https, or localhost",
        "serve the target over https",
    )


# Mail


def check_mail(base_url: str | None) -> Finding:
    """Where the harness reads the target's mail: the bundled server's SMTP sink, or for a
    remote target the IMAP mailbox ``HARNESS_IMAP_URL`` names, logged in to and its folder
    opened (read-only) now. A mailbox that cannot be read is ``missing``: the tester asked for
    it, and the scenarios needing mail would fail."""
    name = "mail"
    if not base_url:
        return Finding(name, "ok", "the bundled server mails to the harness's own SMTP sink")
    try:
        mailbox = mailbox_from_environment(os.environ)
        if mailbox is None:
            return Finding(
                name,
                "warning",
                "no mailbox: scenarios that register accounts or follow mailed links will skip",
                "set HARNESS_IMAP_URL and HARNESS_MAIL_ADDRESS",
            )
        with closing(mailbox):
            messages = mailbox.check()
    except MailboxError as error:
        return Finding(name, "missing", error.problem, error.fix)
    plural = "" if messages == 1 else "s"
    return Finding(
        name, "ok", f"IMAP mailbox {mailbox.location} reachable ({messages} message{plural})"
    )


# The tester's account


def check_tester_account(base_url: str | None) -> Finding:
    """The tester's own account for a staging target, as the environment gives it; it is not
    logged in here (a login spends a TOTP code and counts toward the rate limits)."""
    name = "account"
    if not base_url:
        return Finding(name, "ok", "the bundled server: the harness makes its own accounts")
    fix = "set HARNESS_USERNAME, HARNESS_PASSWORD and HARNESS_TOTP_SECRET, or HARNESS_ENV_FILE"
    try:
        credentials = credentials_from_environment(os.environ)
    except HarnessError as error:
        return Finding(name, "missing", str(error), fix)
    if credentials is None:
        return Finding(
            name, "warning", "no tester account: the scenarios of scenarios/staging will skip", fix
        )
    seed = "with" if credentials.totp_secret is not None else "without"
    return Finding(name, "ok", f"tester account {credentials.username}, {seed} a TOTP seed")


# Security keys


def check_keys() -> Finding:
    """The security keys plugged in, numbered as ``--key N`` chooses them, each with what it
    speaks."""
    from virtual_authenticators.hardware import NO_KEY_FOUND, NoSecurityKey, plugged_in_keys

    name = "security keys"
    try:
        keys = plugged_in_keys()
    except NoSecurityKey as error:
        fix = "check the permissions of /dev/hidraw* (the README's tester guide has a udev rule)"
        return Finding(name, "missing", str(error), fix)
    if not keys:
        return Finding(name, "missing", NO_KEY_FOUND)
    described = []
    for number, device in enumerate(keys, start=1):
        try:
            described.append(f"{number}. {describe_key(device, device.descriptor.product_name)}")
        finally:
            device.close()
    count = f"{len(described)} found" if len(described) > 1 else "1 found"
    return Finding(name, "ok", f"{count}: {'; '.join(described)}")


def describe_key(device: Any, product: str | None) -> str:
    """One key in a few words: its name, CTAP2 or U2F only, and for CTAP2 its getInfo (AAGUID,
    versions, whether a PIN is set).

    :param device: a python-fido2 ``CtapDevice``.
    """
    from fido2.ctap2 import Ctap2
    from fido2.hid import CAPABILITY

    label = product or "unnamed key"
    if not CAPABILITY.CBOR.supported(device.capabilities):
        return f"{label}: U2F only (CTAP1), no CTAP2"
    try:
        info = Ctap2(device).info
    except Exception as error:
        return f"{label}: CTAP2, but its info cannot be read ({_error_line(error)})"
    pin = {True: "PIN set", False: "no PIN set", None: "no PIN support"}[
        info.options.get("clientPin")
    ]
    return f"{label}: CTAP2 ({', '.join(info.versions)}), AAGUID {info.aaguid}, {pin}"


# Helpers


def _guarded(name: str, check: Callable[..., Finding], *args: Any) -> Finding:
    """Run ``check``; an exception it lets out becomes a ``missing`` finding, not a traceback."""
    try:
        return check(*args)
    except Exception as error:
        return _unexpected(name, error)


def _unexpected(name: str, error: Exception) -> Finding:
    return Finding(name, "missing", _error_line(error))


def _error_line(error: BaseException) -> str:
    return f"{type(error).__name__}: {_first_line(error)}"


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0].strip() if lines else "(no message)"


def _one_line(text: str) -> str:
    return " ".join(text.split()).rstrip(".")


def _milliseconds(started: float) -> str:
    return f"{(time.monotonic() - started) * 1000:.0f} ms"
