"""A protocol-level client for the index's login and 2FA contract, on `requests`.

It never follows redirects by itself: scenarios assert the status and ``Location`` the contract
promises. Forms are read from the page (their hidden fields, CSRF token included) and posted
as a browser would; a scenario that wants to send what no browser would uses :meth:`post`
directly.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import requests
from bs4 import BeautifulSoup, Tag

from harness.errors import ContractMismatch
from harness.pacing import Pacer
from harness.redaction import Secret, otpauth_uri
from harness.report.steps import request_step, step_per_method
from virtual_authenticators.base import Authenticator

REAUTH_FORM = "form#reauthenticate-form"
TOTP_FORM = "form:has(#totp_value)"
RECOVERY_CODE_FORM = "form:has(#recovery_code_value)"
"""The login's TOTP step form (the two-factor page's form holding ``totp_value``)."""
WEBAUTHN_PROVISION = "/manage/account/webauthn-provision"
WEBAUTHN_AUTHENTICATE = "/account/webauthn-authenticate"
API_TOKENS = "/manage/account/token/"
ACCOUNT_SCOPE = "scope:user"
"""The ``token_scope`` of a token for the whole account; ``scope:project:<name>`` is one
project's."""
REMEMBER_DEVICE_COOKIE = "remember_device"
"""The contract's remember-device cookie, set when the two-factor step's box is ticked."""

T = TypeVar("T")


@dataclass(frozen=True)
class JsonAnswer:
    """The answer to a WebAuthn call: ``{"success": …}`` or ``{"fail": {"errors": […]}}``."""

    status: int
    body: dict[str, Any]

    @property
    def succeeded(self) -> bool:
        return self.status == 200 and "success" in self.body

    @property
    def errors(self) -> list[str]:
        return list(self.body.get("fail", {}).get("errors", []))


def warehouse_credential(credential: dict[str, Any]) -> str:
    """A browser's ``credential.toJSON()`` in the form Warehouse's page posts it.

    Warehouse's JavaScript sends the client extension results as a JSON string under
    ``registrationClientExtensions`` (registration) or ``assertionClientExtensions``
    (assertion), beside ``id``, ``rawId``, ``type`` and ``response``.
    """
    extensions = json.dumps(credential.get("clientExtensionResults", {}))
    key = (
        "registrationClientExtensions"
        if "attestationObject" in credential["response"]
        else "assertionClientExtensions"
    )
    return json.dumps(
        {
            "id": credential["id"],
            "rawId": credential["rawId"],
            "type": credential["type"],
            "response": credential["response"],
            key: extensions,
        }
    )


@dataclass
class HtmlPage:
    """A response and its parsed HTML."""

    response: requests.Response

    def __post_init__(self) -> None:
        self.soup = BeautifulSoup(self.response.text, "html.parser")

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def url(self) -> str:
        return self.response.url

    @property
    def location(self) -> str:
        """The path (and query) a redirect points at, or "" when it is not a redirect."""
        location = self.response.headers.get("Location", "")
        parts = urlsplit(urljoin(self.url, location)) if location else None
        return f"{parts.path}{'?' + parts.query if parts.query else ''}" if parts else ""

    def select(self, selector: str) -> list[Tag]:
        return self.soup.select(selector)

    def has(self, selector: str) -> bool:
        return self.soup.select_one(selector) is not None

    def one(self, selector: str) -> Tag:
        """The element ``selector`` matches.

        :raises ContractMismatch: the page has no such element.
        """
        element = self.soup.select_one(selector)
        if element is None:
            raise ContractMismatch(f"{urlsplit(self.url).path} has no element {selector!r}")
        return element

    def texts(self, selector: str) -> list[str]:
        return [element.get_text(" ", strip=True) for element in self.select(selector)]

    def csrf_token(self, form: str = "form") -> str:
        """The session's CSRF token: the value of the hidden ``csrf_token`` input of the forms
        ``form`` selects (the first such input on the page).

        :raises ContractMismatch: no such form carries a token.
        """
        return str(self.one(f"{form} input[name=csrf_token]")["value"])

    def form_fields(self, selector: str) -> tuple[str, dict[str, str]]:
        """The action URL of the form ``selector`` and the values it would submit as is."""
        return self.submission(self.one(selector))

    def submission(self, form: Tag) -> tuple[str, dict[str, str]]:
        """The action URL of ``form``, an element of this page, and the values it would submit
        as is."""
        action = urljoin(self.url, str(form.get("action") or self.url))
        fields: dict[str, str] = {}
        for element in form.select("input[name], textarea[name], button[name][value]"):
            kind = str(element.get("type", "")).lower() if element.name == "input" else ""
            if kind == "submit" or (
                kind in ("checkbox", "radio") and not element.has_attr("checked")
            ):
                continue
            fields[str(element["name"])] = str(element.get("value", ""))
        return action, fields

    def flashes(self, kind: str = "") -> list[str]:
        """Flash messages on the page, of one kind (success, error, warning, info) or all."""
        selector = f".notification-bar--{kind}" if kind else ".notification-bar"
        return self.texts(f"#flash-messages {selector} .notification-bar__message")

    def errors(self, field: str | None = None) -> list[str]:
        """Error messages of one field, or the form-level ones."""
        return self.texts(f"ul#{field}-errors li" if field else "ul.form-errors li")


TRANSPORT = frozenset(
    {"url", "use_session_id", "request", "get", "post", "follow", "submit", "submit_page"}
    | {"csrf_token", "json_get", "json_post"}
)
"""The client's plumbing: its requests show as steps of their own, so it needs none."""


WEBAUTHN_ENCODINGS = ("base64url", "char-codes")
"""How a target's page reads the WebAuthn options' challenge and user id strings: base64url
decoding, or each character's code as a byte, as Warehouse's JavaScript does."""


def standard_options(options: dict[str, Any], encoding: str) -> dict[str, Any]:
    """WebAuthn ``options`` as the target sent them, with the challenge and user id turned into
    the base64url of the bytes a key signs for them when the page reads them in ``encoding``:
    the form authenticators take. Options without a challenge (a refusal) are returned as
    they are.

    :raises ContractMismatch: with ``char-codes``, a string a page cannot turn into bytes.
    """
    if encoding == "base64url" or not isinstance(options.get("challenge"), str):
        return options
    converted = {**options, "challenge": _char_codes(options["challenge"])}
    user = options.get("user")
    if isinstance(user, dict) and isinstance(user.get("id"), str):
        converted["user"] = {**user, "id": _char_codes(user["id"])}
    return converted


def _char_codes(text: str) -> str:
    try:
        signed = text.encode("latin-1")
    except UnicodeEncodeError:
        raise ContractMismatch(
            "the target's WebAuthn options hold characters beyond one byte, which its page"
            " cannot read as char codes"
        ) from None
    return base64.urlsafe_b64encode(signed).rstrip(b"=").decode("ascii")


class IndexClient:
    """One browser-like HTTP session with a target; each action it takes and each request it
    sends shows as a step in the report.

    :param base_url: the target's root URL.
    :param timeout: seconds for each request.
    :param webauthn_encoding: how the target's pages read WebAuthn options (one of
        :data:`WEBAUTHN_ENCODINGS`); the options this client hands out are always in the
        standard form (see :func:`standard_options`).
    :param pacer: spaces out login and second-factor attempts to stay under the target's
        per-address limits (a staging server's), or None.
    """

    def __init__(
        self,
        base_url: str,
        timeout: float = 30.0,
        webauthn_encoding: str = "base64url",
        pacer: Pacer | None = None,
    ) -> None:
        if webauthn_encoding not in WEBAUTHN_ENCODINGS:
            raise ValueError(f"unknown WebAuthn encoding {webauthn_encoding!r}")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.webauthn_encoding = webauthn_encoding
        self.pacer = pacer
        self.http = requests.Session()

    def url(self, path: str) -> str:
        return (
            urljoin(self.base_url + "/", path.lstrip("/")) if not path.startswith("http") else path
        )

    @property
    def session_id(self) -> str | None:
        """The current ``session_id`` cookie, if any (a secret: it logs the session in)."""
        value = self.http.cookies.get("session_id")
        return None if value is None else Secret(value)

    def browser_cookies(self) -> list[dict[str, str]]:
        """This client's cookies in the form of Playwright's ``BrowserContext.add_cookies``, for
        the target's URL: a browser given them is logged in as this client is."""
        return [
            {"name": c.name, "value": c.value or "", "url": self.base_url}
            for c in self.http.cookies
        ]

    def use_session_id(self, session_id: str) -> None:
        """Send ``session_id`` from now on, as a stolen or planted cookie would be sent."""
        if self.session_id is None:
            self.get("/account/login/")
        # Overwrite the server-set cookie in place: a second cookie of the same name, set by
        # hand, would carry another domain (cookiejar calls the host "localhost.local").
        for cookie in self.http.cookies:
            if cookie.name == "session_id":
                cookie.value = session_id

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send ``method`` to ``path`` (or a whole URL) on this session, without following
        redirects; the raw response.

        ``kwargs`` go to ``requests`` as they are, so a request may carry what no form sends:
        a field twice (``data`` or ``files`` as a list of pairs), a raw body of bytes.

        The cookies the target sets are secrets (a session cookie logs its holder in): they
        are kept out of reports from now on.
        """
        url = self.url(path)
        kind = Pacer.kind_of(method, urlsplit(url).path)
        if self.pacer is not None and kind is not None:
            self.pacer.before(kind)
        with request_step(method, url):
            response = self.http.request(
                method, url, allow_redirects=False, timeout=self.timeout, **kwargs
            )
        for cookie in response.cookies:
            Secret(cookie.value or "")
        return response

    def get(self, path: str, **kwargs) -> HtmlPage:
        """GET ``path`` without following redirects."""
        return HtmlPage(self.request("GET", path, **kwargs))

    def post(self, path: str, data: dict[str, str] | None = None, **kwargs) -> HtmlPage:
        """POST exactly ``data`` to ``path`` without following redirects."""
        return HtmlPage(self.request("POST", path, data=data, **kwargs))

    def follow(self, page: HtmlPage) -> HtmlPage:
        """GET the ``Location`` of a redirect."""
        location = page.response.headers.get("Location")
        if not location:
            raise ContractMismatch(
                f"{urlsplit(page.url).path} answered {page.status} without a Location"
            )
        return self.get(urljoin(page.url, location))

    def submit(self, path: str, form: str, **fields: str) -> HtmlPage:
        """Open ``path``, fill the form ``form`` with ``fields`` and submit it."""
        return self.submit_page(self.get(path), form, **fields)

    def submit_page(self, page: HtmlPage, form: str, **fields: str) -> HtmlPage:
        """Fill the form ``form`` of an already opened page and submit it."""
        action, values = page.form_fields(form)
        return self.post(action, {**values, **fields})

    def csrf_token(self, path: str = "/account/login/", form: str = "form") -> str:
        """The CSRF token a form on ``path`` carries for this session."""
        return self.get(path).csrf_token(form)

    # The contract's actions, each returning the server's first answer.

    def register(
        self, username: str, email: str, password: str, full_name: str = "", **overrides: str
    ) -> HtmlPage:
        """Submit the registration form as a person fills it in, or with ``overrides`` sent
        instead (a filled honeypot, a confirmation that differs from the password)."""
        fields = {
            "full_name": full_name or username,
            "email": email,
            "username": username,
            "new_password": password,
            "password_confirm": password,
            **overrides,
        }
        return self.submit("/account/register/", "form:has(#new_password)", **fields)

    def login(self, username: str, password: str, next_path: str | None = None) -> HtmlPage:
        path = "/account/login/" + (f"?next={next_path}" if next_path else "")
        return self.submit(path, "form:has(#password)", username=username, password=password)

    def password_step(self, username: str, password: str) -> str:
        """Log in with the password of a 2FA account; the second step's path and token.

        :raises ContractMismatch: the server did not send the browser to the two-factor page.
        """
        page = self.login(username, password)
        if page.status != 303 or not page.location.startswith("/account/two-factor/?"):
            raise ContractMismatch(
                f"the password step answered {page.status} to {page.location or 'nowhere'},"
                " not 303 to /account/two-factor/?<token>"
            )
        return Secret(page.location)

    def log_in_with_totp(self, username: str, password: str, code: str) -> HtmlPage:
        """Both login steps: the password, then ``code`` on the two-factor page."""
        return self.two_factor_totp(self.password_step(username, password), code)

    def logout(self) -> HtmlPage:
        return self.submit("/account/logout/", "form#logout-form")

    def two_factor_totp(self, two_factor_url: str, code: str) -> HtmlPage:
        """Answer the login's TOTP step at the URL the password step redirected to."""
        return self.submit(two_factor_url, TOTP_FORM, totp_value=code)

    def recovery_code_page(self, two_factor_url: str) -> HtmlPage:
        """The page that takes a recovery code for the login pending at ``two_factor_url``."""
        query = urlsplit(self.url(two_factor_url)).query
        return self.get(f"/account/recovery-code/?{query}")

    def recovery_code_login(self, two_factor_url: str, code: str) -> HtmlPage:
        """Answer the login's second step with a recovery code instead."""
        return self.submit_page(
            self.recovery_code_page(two_factor_url), RECOVERY_CODE_FORM, recovery_code_value=code
        )

    def open_sensitive(self, path: str, password: str) -> HtmlPage:
        """GET a page that may ask to re-authenticate first; confirm the password if it does."""
        page = self.get(path)
        if page.status == 200 and page.has(REAUTH_FORM):
            confirmed = self.submit_page(page, REAUTH_FORM, password=password)
            if confirmed.status != 303:
                raise ContractMismatch(f"re-authentication for {path} answered {confirmed.status}")
            page = self.follow(confirmed)
        return page

    def create_api_token(
        self, description: str, password: str, scope: str = ACCOUNT_SCOPE
    ) -> Secret:
        """Make an API token (``scope``: :data:`ACCOUNT_SCOPE` or ``scope:project:<name>``)
        and return it as the page shows it, this once.

        :raises ContractMismatch: the page showed no new token.
        """
        page = self.open_sensitive(API_TOKENS, password)
        made = self.submit_page(
            page, "form#add-token-form", description=description, token_scope=scope
        )
        if made.status != 200 or not made.has("#provisioned-token"):
            raise ContractMismatch(
                f"making an API token answered {made.status}: {made.errors('description')}"
                f" {made.errors('token_scope')}"
            )
        return Secret(made.one("#provisioned-token").get_text(strip=True))

    def remove_api_token(self, description: str, password: str) -> HtmlPage:
        """Remove the token ``description`` from the tokens page, confirming the password."""
        page = self.open_sensitive(API_TOKENS, password)
        selector = f'#api-tokens li[data-description="{description}"] form.delete-token-form'
        return self.submit_page(page, selector, confirm_password=password)

    def provision_totp_secret(self, password: str) -> tuple[HtmlPage, str]:
        """Open TOTP provisioning; the page and the ``otpauth://`` URI of its QR code."""
        page = self.open_sensitive("/manage/account/totp-provision", password)
        return page, otpauth_uri(str(page.one(".totp-form__qr img").get("aria-label", "")))

    def generate_recovery_codes(self, password: str, regenerate: bool = False) -> list[str]:
        """Generate (or regenerate) recovery codes and return the eight shown."""
        path = "/manage/account/recovery-codes/" + ("regenerate" if regenerate else "generate")
        page = self.open_sensitive(path, password)
        codes = [Secret(code) for code in page.texts(".recovery-codes ul li code")]
        if not codes:
            raise ContractMismatch(f"{path} answered {page.status} without recovery codes")
        return codes

    def burn_recovery_code(self, code: str) -> HtmlPage:
        return self.submit(
            "/manage/account/recovery-codes/burn", RECOVERY_CODE_FORM, recovery_code_value=code
        )

    def request_password_reset(self, username_or_email: str) -> HtmlPage:
        return self.submit(
            "/account/request-password-reset/",
            "form:has(#username_or_email)",
            username_or_email=username_or_email,
        )

    def reset_password(self, link: str, new_password: str) -> HtmlPage:
        page = self.get(link)
        if page.status != 200:
            return page
        return self.submit_page(
            page,
            "form:has(#new_password)",
            new_password=new_password,
            password_confirm=new_password,
        )

    def reauthenticate(self, page: HtmlPage, password: str, **overrides: str) -> HtmlPage:
        """Submit the re-authentication form rendered on ``page``, optionally tampered."""
        return self.submit_page(page, REAUTH_FORM, password=password, **overrides)

    def webauthn_provision_options(self, password: str) -> tuple[HtmlPage, dict[str, Any]]:
        """Open key provisioning (re-authenticating if asked); the page and its creation options."""
        page = self.open_sensitive(WEBAUTHN_PROVISION, password)
        if page.status != 200:
            raise ContractMismatch(f"{WEBAUTHN_PROVISION} answered {page.status}")
        return page, self.creation_options()

    def creation_options(self) -> dict[str, Any]:
        """New creation options from the provisioning page's endpoint, in the standard form
        (or the target's refusal)."""
        options = self.json_get(f"{WEBAUTHN_PROVISION}/options").body
        return standard_options(options, self.webauthn_encoding)

    def webauthn_provision_validate(
        self, page: HtmlPage, label: str, credential: dict[str, Any] | str
    ) -> JsonAnswer:
        """Post a new key's registration response, as the provisioning page's script does.

        :param credential: the authenticator's ``RegistrationResponseJSON``, or a raw string to
            send as it is (to try malformed input).
        """
        token = str(page.one("#webauthn-provision-begin").get("value", ""))
        return self.json_post(
            f"{WEBAUTHN_PROVISION}/validate",
            {
                "label": label,
                "csrf_token": token,
                "credential": credential
                if isinstance(credential, str)
                else warehouse_credential(credential),
            },
        )

    def webauthn_authenticate_options(self, two_factor_url: str) -> JsonAnswer:
        """The request options of the login's WebAuthn step, in the standard form."""
        query = urlsplit(self.url(two_factor_url)).query
        answer = self.json_get(f"{WEBAUTHN_AUTHENTICATE}/options?{query}")
        return JsonAnswer(answer.status, standard_options(answer.body, self.webauthn_encoding))

    def webauthn_authenticate_validate(
        self, two_factor_url: str, credential: dict[str, Any] | str, remember_device: bool = False
    ) -> JsonAnswer:
        """Post an assertion for the login's WebAuthn step, with the two-factor page's token."""
        page = self.get(two_factor_url)
        token = str(page.one("#webauthn-auth-begin").get("value", ""))
        query = urlsplit(self.url(two_factor_url)).query
        fields = {
            "csrf_token": token,
            "credential": credential
            if isinstance(credential, str)
            else warehouse_credential(credential),
        }
        if remember_device:
            fields["remember_device"] = "true"
        return self.json_post(f"{WEBAUTHN_AUTHENTICATE}/validate?{query}", fields)

    @property
    def origin(self) -> str:
        """The origin a browser reports for the target's pages."""
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    def enrol_security_key(self, key: Authenticator, label: str, password: str) -> JsonAnswer:
        """Enrol ``key`` for the logged-in user as the provisioning page's script does."""
        page, options = self.webauthn_provision_options(password)
        return self.webauthn_provision_validate(page, label, key.create(options, self.origin))

    def log_in_with_key(self, username: str, password: str, key: Authenticator) -> JsonAnswer:
        """Both login steps: the password, then an assertion from ``key``."""
        two_factor_url = self.password_step(username, password)
        options = self.webauthn_authenticate_options(two_factor_url)
        if "fail" in options.body:
            return options
        return self.webauthn_authenticate_validate(
            two_factor_url, key.get(options.body, self.origin)
        )

    def json_get(self, path: str) -> JsonAnswer:
        response = self.request("GET", path)
        return JsonAnswer(response.status_code, _json_body(response))

    def json_post(self, path: str, fields: dict[str, str]) -> JsonAnswer:
        """POST ``fields`` as multipart/form-data, as the page's ``FormData`` does."""
        files = {name: (None, value) for name, value in fields.items()}
        response = self.request("POST", path, files=files)
        return JsonAnswer(response.status_code, _json_body(response))

    def two_factor_totp_remembered(self, two_factor_url: str, code: str) -> HtmlPage:
        """Answer the login's TOTP step with the form's "remember this device" box ticked.

        The box is the TOTP form's checkbox named ``remember_device``; it is sent with its own
        ``value`` (``on`` when it has none), as a browser sends a ticked box.

        :raises ContractMismatch: the TOTP form has no such box.
        """
        page = self.get(two_factor_url)
        box = page.one("form:has(#totp_value) input[type=checkbox][name=remember_device]")
        return self.submit_page(
            page,
            TOTP_FORM,
            totp_value=code,
            remember_device=str(box.get("value", "on")),
        )


step_per_method(IndexClient, skip=TRANSPORT)


def at_once(*sends: Callable[[], T]) -> list[T]:
    """Make each call in a thread of its own, all released at the same moment; their answers,
    in the order of the calls.

    For races, such as two sessions sending the same one-time code together. Each call should
    use its own :class:`IndexClient` (a ``requests`` session is not shared between threads).

    :raises Exception: the first exception a call raised, once every call has finished.
    """
    start = threading.Barrier(len(sends))
    answers: list[Any] = [None] * len(sends)
    errors: list[BaseException] = []

    def run(index: int, send: Callable[[], T]) -> None:
        start.wait()
        try:
            answers[index] = send()
        except BaseException as error:  # handed to the caller below
            errors.append(error)

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(sends)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return answers


def _json_body(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise ContractMismatch(
            f"{urlsplit(response.url).path} answered {response.status_code} without JSON"
        ) from None
    if not isinstance(body, dict):
        raise ContractMismatch(f"{urlsplit(response.url).path} answered JSON that is not an object")
    return body
