"""A tester's own account on a staging server: its credentials, and leaving it as it was.

Against a staging server the scenarios run as the tester's account (``HARNESS_USERNAME``,
``HARNESS_PASSWORD``, optionally ``HARNESS_TOTP_SECRET``). A scenario that changes that
account must hand it back unchanged: :class:`AccountGuard` reads the account's state from its
management pages before the scenario, undoes what the scenario added afterwards, and lists
what it could not undo (a method, token or project the scenario removed cannot be brought
back by the harness: the tester's phone and keys are not its to enrol).

The state is read by the contract's routes and form fields (forms posting to
``…/webauthn-provision/delete`` with a ``label``, the TOTP form asking for
``confirm_password``, links to ``/manage/project/<name>/…``), so any Warehouse-like target
can be read; the API-token list is read as :meth:`IndexClient.remove_api_token` reads it.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from urllib.parse import quote, unquote, urljoin, urlsplit

from bs4 import Tag
from dotenv import dotenv_values

from harness.client import API_TOKENS, HtmlPage, IndexClient
from harness.errors import ContractMismatch, HarnessError
from harness.redaction import Secret
from virtual_authenticators.totp import TotpApp

USERNAME = "HARNESS_USERNAME"
PASSWORD = "HARNESS_PASSWORD"
TOTP_SECRET = "HARNESS_TOTP_SECRET"
ENV_FILE = "HARNESS_ENV_FILE"
REPOSITORY_ROOT = Path(__file__).resolve().parents[1]

TWO_FACTOR_PAGE = "/manage/account/two-factor/"
PROJECTS_PAGE = "/manage/projects/"
TOTP_PROVISION = "/manage/account/totp-provision"
WEBAUTHN_PROVISION = "/manage/account/webauthn-provision"
WEBAUTHN_DELETE = "/manage/account/webauthn-provision/delete"
RECOVERY_CODES = "/manage/account/recovery-codes/"
TOKEN_ITEMS = "#api-tokens li[data-description]"
PROJECT_LINK = re.compile(r"^/manage/project/([^/]+)/")
TWO_FACTOR_REQUIRED = "Two-factor authentication must be enabled"
BASE32 = re.compile(r"[A-Z2-7]+")


@dataclass(frozen=True)
class TesterCredentials:
    """The tester's own account on the target; its repr masks the password and seed."""

    __test__ = False  # not a test class, whatever pytest thinks of its name

    username: str
    password: Secret
    totp_secret: Secret | None = None
    """The account's TOTP seed in base32 (upper case, no spaces or padding), if given."""


def credentials_from_environment(
    environ: Mapping[str, str], repository_root: Path = REPOSITORY_ROOT
) -> TesterCredentials | None:
    """The tester's credentials from ``HARNESS_USERNAME``, ``HARNESS_PASSWORD`` and
    ``HARNESS_TOTP_SECRET``, or None when none of them is given.

    When ``HARNESS_ENV_FILE`` names a file (a relative name is taken from the current folder),
    the keys are read from it as well, literally (no ``${…}`` expansion, which would mangle a
    password holding a ``$``); a key set in ``environ`` wins over the file's, as dotenv does.
    An empty value counts as not given.

    :raises HarnessError: the file is inside ``repository_root`` (it could be committed) or
        cannot be read; only one of username and password is given; a TOTP secret comes
        without them or is not base32. The message is one line and never holds a secret.
    """
    values = {key: environ.get(key, "") for key in (USERNAME, PASSWORD, TOTP_SECRET)}
    env_file = environ.get(ENV_FILE, "")
    if env_file:
        from_file = _read_env_file(Path(env_file), repository_root)
        values = {key: value or from_file.get(key) or "" for key, value in values.items()}
    username, password, seed = values[USERNAME], values[PASSWORD], values[TOTP_SECRET]
    if not (username or password or seed):
        return None
    if not (username and password):
        given = ", ".join(key for key, value in values.items() if value)
        missing = " and ".join(key for key in (USERNAME, PASSWORD) if not values[key])
        raise HarnessError(
            f"{given} given without {missing}: give the username and password together"
        )
    return TesterCredentials(username, Secret(password), _base32_seed(seed) if seed else None)


def log_in(client: IndexClient, credentials: TesterCredentials) -> None:
    """Log the tester's account in on ``client``: the password, then, when the account asks
    for a second factor, a code of its TOTP seed. A code refused as already used (another
    process logged in during the same time step) is retried once, with the next step's code.

    :raises HarnessError: the password is refused; the account asks for a second factor and no
        TOTP seed was given; the TOTP codes are refused. One line, with no secret in it.
    """
    page = client.login(credentials.username, credentials.password)
    location = page.location if page.status == 303 else ""
    if not location.startswith("/account/two-factor/?"):
        if page.status == 303:
            return
        problems = page.texts("ul.form-errors li, ul[id$=-errors] li") + page.flashes("error")
        raise HarnessError(
            f"the login of {credentials.username} ({USERNAME}) was refused:"
            f" {'; '.join(problems) or f'answer {page.status}'}"
        )
    if credentials.totp_secret is None:
        raise HarnessError(
            f"{credentials.username} asks for a second factor: set {TOTP_SECRET} to the base32"
            " seed of its TOTP application"
        )
    app = TotpApp(credentials.totp_secret)
    for attempt in range(2):
        if attempt:
            time.sleep(app.seconds_left_in_step() + 0.5)
        else:
            app.wait_for_fresh_step()
        if client.two_factor_totp(Secret(location), app.current()).status == 303:
            return
    raise HarnessError(
        f"the TOTP codes of {TOTP_SECRET} were refused for {credentials.username}: is it the"
        " seed of this account's application, and this machine's clock right?"
    )


@dataclass(frozen=True)
class TesterSession:
    """The tester's account, logged in on :attr:`client`, for one scenario.

    :param api_tokens: the target has API tokens.
    """

    __test__ = False  # not a test class, whatever pytest thinks of its name

    credentials: TesterCredentials
    client: IndexClient
    api_tokens: bool = True

    def state(self) -> AccountState:
        """The account's state now (see :func:`read_account_state`)."""
        return read_account_state(
            self.client, self.credentials.password, api_tokens=self.api_tokens
        )


def _read_env_file(path: Path, repository_root: Path) -> dict[str, str | None]:
    resolved = path.expanduser().resolve()
    root = repository_root.resolve()
    if resolved.is_relative_to(root):
        raise HarnessError(
            f"{ENV_FILE} {path} is inside the repository {root}:"
            " keep secrets in a file outside it, where they cannot be committed"
        )
    try:
        text = resolved.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "it is not UTF-8 text"
        raise HarnessError(f"{ENV_FILE} {path} cannot be read: {reason}") from None
    return dotenv_values(stream=io.StringIO(text), interpolate=False)


def _base32_seed(value: str) -> Secret:
    # Apps show seeds in groups of four, sometimes lower case: accept them as typed.
    Secret(value)  # registers the raw form too, so reports are scrubbed of it as given
    seed = "".join(value.split()).upper().rstrip("=")
    try:
        if not BASE32.fullmatch(seed):
            raise binascii.Error
        base64.b32decode(seed + "=" * (-len(seed) % 8))
    except binascii.Error:
        raise HarnessError(
            f"{TOTP_SECRET} is not base32 (letters A-Z and digits 2-7): give the seed your"
            " authenticator app was set up with"
        ) from None
    return Secret(seed)


@dataclass(frozen=True)
class AccountState:
    """What the account's management pages show of it.

    :param totp: a TOTP application is set up.
    :param security_keys: the labels of its security keys.
    :param api_tokens: the names (descriptions) of its API tokens.
    :param projects: the projects it has a role on.
    :param recovery_codes: whether it has recovery codes, or None when the page does not say.
    """

    totp: bool
    security_keys: frozenset[str]
    api_tokens: frozenset[str]
    projects: frozenset[str]
    recovery_codes: bool | None = None


def read_account_state(
    client: IndexClient, password: str, *, api_tokens: bool = True, projects: bool = True
) -> AccountState:
    """Read the state of the account ``client`` is logged in as, re-authenticating with
    ``password`` where a page asks.

    :param api_tokens: the target has API tokens (the 2019 index had none, nor their page).
    :param projects: read the projects page; False leaves :attr:`AccountState.projects` empty,
        for a reader that never touches projects (the reference server hides them from an
        account without 2FA, and an empty set must then never be taken as "no project").
    :raises ContractMismatch: a page did not open (not logged in, say) or lacks what the
        contract promises.
    """
    two_factor = _open(client, TWO_FACTOR_PAGE, password)
    removes_totp = _totp_removal_form(two_factor)
    if removes_totp is None and not _links_to(two_factor, TOTP_PROVISION):
        raise ContractMismatch(
            f"{TWO_FACTOR_PAGE} shows neither a form removing TOTP nor a link to set it up"
            " (is the account's email verified?)"
        )
    if not _links_to(two_factor, WEBAUTHN_PROVISION):
        raise ContractMismatch(f"{TWO_FACTOR_PAGE} has no link to {WEBAUTHN_PROVISION}")
    return AccountState(
        totp=removes_totp is not None,
        security_keys=frozenset(_key_forms(two_factor)),
        api_tokens=_api_tokens(client, password) if api_tokens else frozenset(),
        projects=_projects(_open(client, PROJECTS_PAGE, password)) if projects else frozenset(),
        recovery_codes=_recovery_codes(two_factor),
    )


def _api_tokens(client: IndexClient, password: str) -> frozenset[str]:
    tokens = _open(client, API_TOKENS, password)
    if not tokens.has("#api-tokens"):
        raise ContractMismatch(f"{API_TOKENS} has no list of tokens (#api-tokens)")
    return frozenset(str(item["data-description"]) for item in tokens.select(TOKEN_ITEMS))


def restore_account(
    client: IndexClient, before: AccountState, password: str, *, api_tokens: bool = True
) -> list[str]:
    """Undo what was added to the account since ``before``: remove the API tokens, projects,
    security keys and TOTP application that ``before`` lacks. Nothing ``before`` holds is
    ever removed.

    Tokens go before projects (deleting a project takes its tokens along), keys before TOTP;
    a second-factor method that is the last one left may be refused by the index, and is then
    reported.

    :param api_tokens: the target has API tokens.
    :return: one line per difference still there afterwards: what was removed during the
        test (the harness cannot give back the tester's own app, key, token or project), and
        what was added but could not be removed, with the index's reason.
    :raises ContractMismatch: a page lacks what the contract promises.
    """
    now = read_account_state(client, password, api_tokens=api_tokens)
    refusals: dict[str, str] = {}
    for name in sorted(now.api_tokens - before.api_tokens):
        refusals[_token(name)] = remove_token(client, name, password)
    for name in sorted(now.projects - before.projects):
        refusals[_project(name)] = delete_project(client, name, password)
    for label in sorted(now.security_keys - before.security_keys):
        refusals[_key(label)] = remove_key(client, label, password)
    if now.totp and not before.totp:
        refusals[_TOTP] = remove_totp(client, password)
    after = read_account_state(client, password, api_tokens=api_tokens)
    return _differences(before, after, refusals)


class AccountGuard:
    """``with AccountGuard(client, password) as guard:`` reads the account's state on entry
    (:attr:`before`) and restores it on exit, whether or not the body raised; :attr:`unrestored`
    then holds the lines :func:`restore_account` returned.

    A harness error while restoring (a page that would not open) becomes a line of
    :attr:`unrestored` instead of hiding the body's own exception.

    :param api_tokens: the target has API tokens.
    """

    def __init__(self, client: IndexClient, password: str, *, api_tokens: bool = True) -> None:
        self.client = client
        self.password = password
        self.api_tokens = api_tokens
        self.before: AccountState | None = None
        self.unrestored: list[str] = []

    def __enter__(self) -> AccountGuard:
        self.before = read_account_state(self.client, self.password, api_tokens=self.api_tokens)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self.before is not None
        try:
            self.unrestored = restore_account(
                self.client, self.before, self.password, api_tokens=self.api_tokens
            )
        except HarnessError as error:
            self.unrestored = [f"the account could not be restored: {error}"]


_TOTP = "the TOTP application"


def _token(name: str) -> str:
    return f"API token {name!r}"


def _project(name: str) -> str:
    return f"project {name!r}"


def _key(label: str) -> str:
    return f"security key {label!r}"


def _differences(before: AccountState, after: AccountState, refusals: dict[str, str]) -> list[str]:
    removed: list[str] = []
    added: list[str] = []

    def compare(was: Iterable[str], now: Iterable[str]) -> None:
        was, now = set(was), set(now)
        removed.extend(sorted(was - now))
        added.extend(sorted(now - was))

    compare([_TOTP] if before.totp else [], [_TOTP] if after.totp else [])
    compare(map(_key, before.security_keys), map(_key, after.security_keys))
    compare(map(_token, before.api_tokens), map(_token, after.api_tokens))
    compare(map(_project, before.projects), map(_project, after.projects))
    lines = [f"{thing} was removed during the test and cannot be given back" for thing in removed]
    lines += [
        f"{thing} was added during the test and could not be removed: "
        + refusals.get(thing, "it appeared after the restore began")
        for thing in added
    ]
    if None not in (before.recovery_codes, after.recovery_codes) and (
        before.recovery_codes != after.recovery_codes
    ):
        change = "generated" if after.recovery_codes else "removed"
        lines.append(f"recovery codes were {change} during the test and cannot be undone")
    return lines


def _open(client: IndexClient, path: str, password: str) -> HtmlPage:
    page = client.open_sensitive(path, password)
    if page.status != 200:
        where = f" to {page.location}" if page.location else ""
        raise ContractMismatch(f"{path} answered {page.status}{where}, not 200: is it logged in?")
    return page


def _action_path(page: HtmlPage, form: Tag) -> str:
    return urlsplit(urljoin(page.url, str(form.get("action") or page.url))).path


def _links_to(page: HtmlPage, path: str) -> bool:
    return any(urlsplit(str(a["href"])).path == path for a in page.select("a[href]"))


def _totp_removal_form(page: HtmlPage) -> Tag | None:
    return next(
        (
            form
            for form in page.select("form:has(input[name=confirm_password])")
            if _action_path(page, form) == TOTP_PROVISION
        ),
        None,
    )


def _key_forms(page: HtmlPage) -> dict[str, Tag]:
    """Each security key's removal form, by the key's label."""
    forms: dict[str, Tag] = {}
    for form in page.select("form:has(input[name=label])"):
        if _action_path(page, form) == WEBAUTHN_DELETE:
            forms[str(form.select_one("input[name=label]").get("value", ""))] = form
    return forms


def _recovery_codes(page: HtmlPage) -> bool | None:
    if _links_to(page, RECOVERY_CODES + "regenerate"):
        return True
    if _links_to(page, RECOVERY_CODES + "generate"):
        return False
    return None


def _projects(page: HtmlPage) -> frozenset[str]:
    # The reference server shows this notice in place of the list; Warehouse redirects.
    if TWO_FACTOR_REQUIRED in page.soup.get_text(" "):
        raise ContractMismatch(f"{PROJECTS_PAGE} hides the projects until the account has 2FA")
    names = set()
    for link in page.select("a[href]"):
        match = PROJECT_LINK.match(urlsplit(str(link["href"])).path)
        if match:
            names.add(unquote(match.group(1)))
    return frozenset(names)


def _refusal(client: IndexClient, answer: HtmlPage) -> str:
    """What the index said to a removal: the error flashes on the page it sent the browser
    to, or its status. Read whatever the outcome; it is reported only if the thing stayed."""
    page = client.follow(answer) if answer.status in (302, 303) and answer.location else answer
    said = page.flashes("error") + page.errors()
    return "; ".join(said) or f"the index answered {answer.status}"


def remove_token(client: IndexClient, name: str, password: str) -> str:
    """Remove the API token ``name`` of the account ``client`` is logged in as, confirming
    with ``password``; what the index said (read whatever the outcome: compare the state
    afterwards to know whether the token went)."""
    page = _open(client, API_TOKENS, password)
    # Matched in Python rather than in a selector, where a name holding a quote would break it.
    item = next((i for i in page.select(TOKEN_ITEMS) if i["data-description"] == name), None)
    form = item.select_one("form:has(input[name=confirm_password])") if item else None
    if form is None:
        return "the tokens page has no form removing it with the password"
    action, fields = page.submission(form)
    return _refusal(client, client.post(action, {**fields, "confirm_password": password}))


def delete_project(client: IndexClient, name: str, password: str) -> str:
    """Delete the project ``name`` from its settings page, typing its name to confirm; what
    the index said, or why the form was not found."""
    page = client.open_sensitive(f"/manage/project/{quote(name)}/settings/", password)
    form = page.soup.select_one("form:has(input[name=confirm_project_name])")
    if page.status != 200 or form is None:
        return f"its settings page answered {page.status} without a form to delete it"
    action, fields = page.submission(form)
    return _refusal(client, client.post(action, {**fields, "confirm_project_name": name}))


def remove_key(client: IndexClient, label: str, password: str) -> str:
    """Remove the security key labelled ``label``, typing the label to confirm; what the index
    said.

    :raises KeyError: the two-factor page lists no key ``label``.
    """
    page = _open(client, TWO_FACTOR_PAGE, password)
    action, fields = page.submission(_key_forms(page)[label])
    return _refusal(client, client.post(action, {**fields, "confirm_device_name": label}))


def remove_totp(client: IndexClient, password: str) -> str:
    """Remove the TOTP application, confirming with ``password``; what the index said (it
    refuses the last second-factor method under the current policy), or that the form is
    gone."""
    page = _open(client, TWO_FACTOR_PAGE, password)
    form = _totp_removal_form(page)
    if form is None:
        return "the TOTP removal form is gone"
    action, fields = page.submission(form)
    return _refusal(client, client.post(action, {**fields, "confirm_password": password}))
