"""Property-based fuzz of every form and JSON endpoint of the contract (issue 4, item 6).

``FUZZ-NO-5XX-01``: no input makes the index answer 5xx. ``FUZZ-NO-LOGIN-01``: no input sent
from a logged-out or pending-second-factor session logs it in or moves the pending login on.
Two kinds of endpoint have a property of their own as well. Deleting a project or a release
(``PROJECT-CONFIRM-01``, ``-02``): no input deletes it unless its typed confirmation names it;
the confirmations are mostly near misses and by chance the name itself, and whatever an input
deletes is made again for the next one. Uploads (``/legacy/``, HTTP basic authentication):
no input without valid credentials is accepted (``UPLOAD-TOKEN-02``, ``-03``: a removed token,
a token of another project, a wrong token, password or username, another scheme, none).

:data:`ENDPOINTS` lists the endpoints of ``warehouse-contract.md`` and ``docs/pages.md`` that
take input (a form, a JSON body, a query string, an upload; pages without input are left out),
each with its fields and the state its requester must be in. Hypothesis generates each request:
every field (the CSRF token among them) from a mix of well-formed values and anything at all
(unicode with NUL and odd characters, up to 10 kB, empty, bytes), sometimes missing or twice,
sometimes with an unknown field, rarely a raw body of random bytes; odd query strings (the
pending login's token, the ``next`` and ``token`` parameters); WebAuthn credentials edited key
by key, truncated, of the wrong JSON type, in bad base64url or random bytes. The requester
opens the form's page first and sends the page's own CSRF token (mostly), so that input
reaches the validation behind it; uploads send its account's API token (mostly) and a wheel of
its project, named after the request's name and version.

Generated inputs in the default run, the sum of the ``examples`` column: 2,940.
Settings: derandomized (the same inputs in every run), no example database, no deadline.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
import requests
from hypothesis import given, reject, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from packaging.utils import canonicalize_name

from harness.client import (
    API_TOKENS,
    REAUTH_FORM,
    TOTP_FORM,
    WEBAUTHN_AUTHENTICATE,
    WEBAUTHN_PROVISION,
)
from scenarios.security.inputs import Encoding, Fuzzed, Piece, decoded, send
from scenarios.security.requesters import (
    UPLOAD,
    Holder,
    Requester,
    Seat,
    Setup,
    Standing,
    State,
    assertion,
    new_project,
    new_release,
    owned_project,
    registration,
    reset_link,
    stale_for_recovery_codes,
    upload_secrets,
    verification_link,
)
from scenarios.security.strategies import (
    ASSERTION_PATHS,
    REGISTRATION_PATHS,
    UPLOAD_FORM,
    altered,
    anything,
    confirmations,
    credentials,
    csrf_tokens,
    descriptions,
    either,
    emails,
    json_texts,
    known,
    labels,
    mostly,
    next_paths,
    no_queries,
    odd_upload_fields,
    own,
    pending_queries,
    query_with,
    recovery_codes,
    requests_to,
    role_names,
    same_as,
    texts,
    token_scopes,
    totp_codes,
    upload_credentials,
    usernames,
    wrong_credentials,
)

pytestmark = pytest.mark.protocol

TWO_FACTOR_SETTINGS = "/manage/account/two-factor/"
PENDING = "/account/two-factor/?{pending_token}"
RESET_PAGE = "/account/reset-password/?token={reset_token}"
GUARDED_STATES = (State.LOGGED_OUT, State.PENDING_SECOND_FACTOR)
"""The states FUZZ-NO-LOGIN-01 is about: no input may take a session out of them into a login."""


def logged_in(seat: Seat) -> bool:
    return seat.client.get("/manage/account/").status == 200


def logged_out(seat: Seat) -> bool:
    return not logged_in(seat)


def reset_link_works(seat: Seat) -> bool:
    return seat.client.get(RESET_PAGE.format(**seat.known)).status == 200


def has_a_key(seat: Seat) -> bool:
    return seat.client.get(TWO_FACTOR_SETTINGS).has("#webauthn-keys li[data-label]")


PROJECT_SETTINGS = "/manage/project/{project}/settings/"
RELEASE_PAGE = "/manage/project/{project}/release/{version}/"
COLLABORATION = "/manage/project/{project}/collaboration/"


def names_project(typed: str, name: str) -> bool:
    """True when ``typed`` names the project ``name``, as Warehouse compares them: whitespace
    around it ignored, any spelling PEP 503 equates (case, runs of ``-_.``)."""
    return canonicalize_name(typed.strip()) == canonicalize_name(name)


def names_version(typed: str, version: str) -> bool:
    """True when ``typed`` is ``version`` exactly, whitespace around it ignored."""
    return typed.strip() == version


@dataclass(frozen=True)
class Deletion:
    """What a destructive endpoint deletes, and the typed confirmation that must name it.

    :param field: the confirmation field.
    :param known: the known value that names the thing (``project``, ``version``).
    :param names: whether a typed value names it.
    :param page: the thing's page: 200 while it exists, 404 once it is gone.
    :param remake: makes another in its place (and updates the known values), after an input
        deleted it, so that the next input has something to delete.
    :param requirement: the catalogue requirement the confirmation meets.
    """

    field: str
    known: str
    names: Callable[[str, str], bool]
    page: str
    remake: Callable[[Seat], None]
    requirement: str


@dataclass(frozen=True)
class Endpoint:
    """A form or JSON endpoint of the contract and where its requests come from.

    :param fields: each field the page's form (or script) sends, and its values.
    :param standing: the requester's state, account and page.
    :param examples: how many generated requests it gets.
    :param queries: query strings (None: no query string).
    :param prime: a JSON endpoint to GET before each request, as the page's script does (the
        WebAuthn options, which store the challenge the validation needs).
    :param still_ready: after an answer that redirects, whether the requester is still in its
        state (else it comes back into it); for endpoints whose success leaves the state.
    :param guess: the field whose right value (a TOTP code) a request could guess by chance;
        such a request is not sent, because its success would be no finding.
    :param logs_in: a valid request logs in by contract (registration).
    :param headers: request headers and their values (a value of None: the header is left out).
    :param deletes: what a request deletes once its confirmation names it.
    :param unauthorized: no request carries valid credentials, so none may be accepted.
    :param usual: each field's well-formed value, when a request is to send them all but one to
        three fields (see :func:`~scenarios.security.strategies.requests_to`).
    """

    name: str
    method: str
    route: str
    fields: Mapping[str, SearchStrategy[Piece]]
    standing: Standing
    examples: int
    queries: SearchStrategy = field(default=no_queries)
    encoding: Encoding = Encoding.FORM
    prime: str | None = None
    still_ready: Callable[[Seat], bool] | None = None
    guess: str | None = None
    logs_in: bool = False
    headers: Mapping[str, SearchStrategy[Piece | None]] = field(default_factory=dict)
    deletes: Deletion | None = None
    unauthorized: bool = False
    usual: Mapping[str, SearchStrategy[Piece]] | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.route} ({self.standing.state.value})"

    @classmethod
    def query_only(
        cls,
        name: str,
        route: str,
        standing: Standing,
        examples: int,
        queries: SearchStrategy = no_queries,
    ) -> Endpoint:
        """A GET endpoint, whose only input is its query string."""
        return cls(
            name, "GET", route, {}, standing, examples, queries=queries, encoding=Encoding.QUERY
        )


ENDPOINTS = (
    # Logged out.
    Endpoint(
        "login",
        "POST",
        "/account/login/",
        {
            "csrf_token": csrf_tokens,
            "username": either(known("username"), usernames),
            "password": anything,
            "next": either(next_paths),
        },
        Standing(State.LOGGED_OUT, Holder.NEW, page="/account/login/", form="form:has(#password)"),
        examples=200,
        queries=st.none() | query_with("next", either(next_paths)),
    ),
    Endpoint.query_only(
        "login-page",
        "/account/login/",
        Standing(State.LOGGED_OUT, Holder.NEW),
        examples=60,
        queries=query_with("next", either(next_paths)),
    ),
    Endpoint(
        "register",
        "POST",
        "/account/register/",
        {
            "csrf_token": csrf_tokens,
            "full_name": anything,
            "email": either(emails, known("email")),
            "username": either(usernames, known("username")),
            "new_password": anything,
            "password_confirm": either(same_as("new_password")),
            "confirm_form": mostly(st.just(""), anything),
        },
        Standing(
            State.LOGGED_OUT, Holder.NEW, page="/account/register/", form="form:has(#new_password)"
        ),
        examples=150,
        still_ready=logged_out,
        logs_in=True,
    ),
    Endpoint(
        "request-password-reset",
        "POST",
        "/account/request-password-reset/",
        {
            "csrf_token": csrf_tokens,
            "username_or_email": either(known("username"), known("email"), usernames, emails),
        },
        Standing(
            State.LOGGED_OUT,
            Holder.NEW,
            page="/account/request-password-reset/",
            form="form:has(#username_or_email)",
        ),
        examples=150,
    ),
    Endpoint(
        "reset-password",
        "POST",
        "/account/reset-password/",
        {
            "csrf_token": csrf_tokens,
            "new_password": anything,
            "password_confirm": either(same_as("new_password")),
        },
        Standing(
            State.LOGGED_OUT,
            Holder.VERIFIED,
            page=RESET_PAGE,
            form="form:has(#new_password)",
            needs=(reset_link,),
            keep_account=False,
            expires="password_reset",
        ),
        examples=120,
        queries=query_with("token", own("reset_token")),
        still_ready=reset_link_works,
    ),
    Endpoint.query_only(
        "reset-password-page",
        "/account/reset-password/",
        Standing(
            State.LOGGED_OUT,
            Holder.VERIFIED,
            needs=(reset_link,),
            keep_account=False,
            expires="password_reset",
        ),
        examples=60,
        queries=query_with("token", own("reset_token")),
    ),
    # Pending second factor: after the password step, with /account/two-factor/?<token>.
    Endpoint(
        "two-factor-totp",
        "POST",
        "/account/two-factor/",
        {
            "csrf_token": csrf_tokens,
            "method": own("method", st.sampled_from(["webauthn", "recovery-code"])),
            "totp_value": either(totp_codes),
            "remember_device": either(st.just("true")),
        },
        Standing(
            State.PENDING_SECOND_FACTOR,
            Holder.TOTP,
            page=PENDING,
            form=TOTP_FORM,
            expires="two_factor_login",
        ),
        examples=150,
        queries=pending_queries,
        guess="totp_value",
    ),
    Endpoint.query_only(
        "two-factor-page",
        "/account/two-factor/",
        Standing(State.PENDING_SECOND_FACTOR, Holder.TOTP, expires="two_factor_login"),
        examples=60,
        queries=pending_queries,
    ),
    Endpoint(
        "recovery-code",
        "POST",
        "/account/recovery-code/",
        {
            "csrf_token": csrf_tokens,
            "method": own("method"),
            "recovery_code_value": either(recovery_codes),
        },
        Standing(
            State.PENDING_SECOND_FACTOR,
            Holder.KEY_AND_RECOVERY_CODES,
            page="/account/recovery-code/?{pending_token}",
            form="form:has(#recovery_code_value)",
            expires="two_factor_login",
        ),
        examples=120,
        queries=pending_queries,
    ),
    Endpoint.query_only(
        "recovery-code-page",
        "/account/recovery-code/",
        Standing(
            State.PENDING_SECOND_FACTOR,
            Holder.KEY_AND_RECOVERY_CODES,
            expires="two_factor_login",
        ),
        examples=60,
        queries=pending_queries,
    ),
    Endpoint.query_only(
        "webauthn-authenticate-options",
        f"{WEBAUTHN_AUTHENTICATE}/options",
        Standing(State.PENDING_SECOND_FACTOR, Holder.SECURITY_KEY, expires="two_factor_login"),
        examples=100,
        queries=pending_queries,
    ),
    Endpoint(
        "webauthn-authenticate-validate",
        "POST",
        f"{WEBAUTHN_AUTHENTICATE}/validate",
        {
            "csrf_token": csrf_tokens,
            "credential": credentials(ASSERTION_PATHS),
            "remember_device": either(st.just("true")),
        },
        Standing(
            State.PENDING_SECOND_FACTOR,
            Holder.SECURITY_KEY,
            page=PENDING,
            form="#webauthn-auth-form",
            needs=(assertion,),
            expires="two_factor_login",
        ),
        examples=100,
        queries=pending_queries,
        encoding=Encoding.MULTIPART,
        prime=f"{WEBAUTHN_AUTHENTICATE}/options?{{pending_token}}",
    ),
    # Logged in.
    Endpoint(
        "logout",
        "POST",
        "/account/logout/",
        {"csrf_token": csrf_tokens},
        Standing(State.LOGGED_IN, Holder.NEW, page="/account/logout/", form="form#logout-form"),
        examples=60,
        still_ready=logged_in,
    ),
    Endpoint.query_only(
        "verify-email",
        "/account/verify-email/",
        Standing(State.LOGGED_IN, Holder.NEW, needs=(verification_link,)),
        examples=100,
        queries=query_with("token", own("verify_token")),
    ),
    Endpoint(
        "reauthenticate",
        "POST",
        "/account/reauthenticate/",
        {
            "csrf_token": csrf_tokens,
            "username": own("username"),
            "next_route": own("next_route"),
            "next_route_matchdict": own("next_route_matchdict", json_texts),
            "next_route_query": own("next_route_query", json_texts),
            "password": anything,
        },
        Standing(
            State.LOGGED_IN,
            Holder.VERIFIED,
            page="/manage/account/recovery-codes/generate",
            form=REAUTH_FORM,
            needs=(stale_for_recovery_codes,),
            # Wrong passwords count against the account's login limit (10 per 5 minutes on
            # the bundled server): enough accounts to age together for the whole run.
            spares=7,
        ),
        examples=120,
    ),
    Endpoint(
        "recovery-codes-burn",
        "POST",
        "/manage/account/recovery-codes/burn",
        {
            "csrf_token": csrf_tokens,
            "method": own("method"),
            "recovery_code_value": either(recovery_codes),
        },
        Standing(
            State.LOGGED_IN,
            Holder.RECOVERY_CODES,
            page="/manage/account/recovery-codes/burn",
            form="form:has(#recovery_code_value)",
        ),
        examples=120,
    ),
    # Logged in and recently re-authenticated.
    Endpoint(
        "totp-provision",
        "POST",
        "/manage/account/totp-provision",
        {"csrf_token": csrf_tokens, "totp_value": either(totp_codes)},
        Standing(
            State.REAUTHENTICATED,
            Holder.READY,
            page="/manage/account/totp-provision",
            form="form.totp-form__form",
        ),
        examples=120,
    ),
    Endpoint(
        "totp-remove",
        "POST",
        "/manage/account/totp-provision",
        {"csrf_token": csrf_tokens, "confirm_password": anything},
        Standing(
            State.REAUTHENTICATED,
            Holder.TOTP,
            page=TWO_FACTOR_SETTINGS,
            form="form#remove-totp-form",
            # Logging the same account in again within its time step would replay its code.
            keep_account=False,
        ),
        examples=60,
    ),
    Endpoint.query_only(
        "webauthn-provision-options",
        f"{WEBAUTHN_PROVISION}/options",
        Standing(State.REAUTHENTICATED, Holder.READY, page=WEBAUTHN_PROVISION),
        examples=80,
    ),
    Endpoint(
        "webauthn-provision-validate",
        "POST",
        f"{WEBAUTHN_PROVISION}/validate",
        {
            "csrf_token": csrf_tokens,
            "label": either(labels),
            "credential": credentials(REGISTRATION_PATHS),
        },
        Standing(
            State.REAUTHENTICATED,
            Holder.READY,
            page=WEBAUTHN_PROVISION,
            form="#webauthn-provision-form",
            needs=(registration,),
        ),
        examples=200,
        encoding=Encoding.MULTIPART,
        prime=f"{WEBAUTHN_PROVISION}/options",
    ),
    Endpoint(
        "webauthn-provision-delete",
        "POST",
        f"{WEBAUTHN_PROVISION}/delete",
        {
            "csrf_token": csrf_tokens,
            "label": own("label"),
            "id": own("id"),
            "confirm_device_name": either(same_as("label"), known("label")),
        },
        Standing(
            State.REAUTHENTICATED,
            Holder.SECURITY_KEY,
            page=TWO_FACTOR_SETTINGS,
            form="#webauthn-keys form.webauthn-delete-form",
            keep_account=False,
        ),
        examples=120,
        still_ready=has_a_key,
    ),
    # Logged in with two-factor authentication (which the current policy asks of anyone who
    # manages tokens or projects), owning a project uploaded with an API token.
    Endpoint(
        "api-token-add",
        "POST",
        API_TOKENS,
        {
            "csrf_token": csrf_tokens,
            "description": either(descriptions, known("token_description")),
            "token_scope": either(token_scopes),
        },
        Standing(
            State.LOGGED_IN,
            Holder.TOTP,
            page=API_TOKENS,
            form="form#add-token-form",
            needs=(owned_project,),
        ),
        examples=60,
    ),
    Endpoint(
        "api-token-delete",
        "POST",
        f"{API_TOKENS}delete",
        {
            "csrf_token": csrf_tokens,
            "macaroon_id": own("macaroon_id", st.integers(-1, 10_000).map(str)),
            # Never the password itself: the token stays for the next request.
            "confirm_password": either(altered("password")),
        },
        Standing(
            State.LOGGED_IN,
            Holder.TOTP,
            page=API_TOKENS,
            form="#api-tokens form.delete-token-form",
            needs=(owned_project,),
        ),
        examples=60,
    ),
    Endpoint(
        "project-delete",
        "POST",
        "/manage/project/{project}/delete_project/",
        {
            "csrf_token": csrf_tokens,
            "confirm_project_name": confirmations("project", other="version"),
        },
        Standing(
            State.LOGGED_IN,
            Holder.TOTP,
            page=PROJECT_SETTINGS,
            form="form#delete-project-form",
            needs=(owned_project,),
        ),
        examples=70,
        deletes=Deletion(
            "confirm_project_name",
            "project",
            names_project,
            PROJECT_SETTINGS,
            new_project,
            "PROJECT-CONFIRM-01",
        ),
    ),
    Endpoint(
        "release-delete",
        "POST",
        RELEASE_PAGE,
        {
            "csrf_token": csrf_tokens,
            "confirm_delete_version": confirmations("version", other="project"),
        },
        Standing(
            State.LOGGED_IN,
            Holder.TOTP,
            page=RELEASE_PAGE,
            form="form#delete-release-form",
            needs=(owned_project,),
        ),
        examples=70,
        deletes=Deletion(
            "confirm_delete_version",
            "version",
            names_version,
            RELEASE_PAGE,
            new_release,
            "PROJECT-CONFIRM-02",
        ),
    ),
    # Collaborators: the owner's forms; the project's only role is the owner's, whom no input
    # can remove or demote (the sole owner), so the project stays for the next input.
    Endpoint(
        "collaborator-invite",
        "POST",
        COLLABORATION,
        {
            "csrf_token": csrf_tokens,
            "username": either(usernames),
            "role_name": either(role_names),
        },
        Standing(
            State.LOGGED_IN,
            Holder.TOTP,
            page=COLLABORATION,
            form="form#invite-form",
            needs=(owned_project,),
        ),
        examples=40,
    ),
    Endpoint(
        "collaborator-change-role",
        "POST",
        COLLABORATION + "change/",
        {
            "csrf_token": csrf_tokens,
            "role_id": own("role_id", st.integers(-1, 10_000).map(str)),
            "role_name": either(role_names),
        },
        Standing(
            State.LOGGED_IN,
            Holder.TOTP,
            page=COLLABORATION,
            form="#collaborators form.change-role-form",
            needs=(owned_project,),
        ),
        examples=40,
    ),
    Endpoint(
        "collaborator-remove",
        "POST",
        COLLABORATION + "delete/",
        {
            "csrf_token": csrf_tokens,
            "role_id": own("role_id", st.integers(-1, 10_000).map(str)),
            "confirm_username": either(usernames),
        },
        Standing(
            State.LOGGED_IN,
            Holder.TOTP,
            page=COLLABORATION,
            form="#collaborators form.delete-role-form",
            needs=(owned_project,),
        ),
        examples=40,
    ),
    Endpoint.query_only(
        "project-role-invitation",
        "/account/verify-project-role/",
        Standing(State.LOGGED_IN, Holder.TOTP),
        examples=30,
        queries=query_with("token", either(texts())),
    ),
    # Uploads (HTTP basic authentication, no session): from a logged-out session, with the
    # tokens of an account with two-factor authentication that owns a project.
    Endpoint(
        "upload",
        "POST",
        UPLOAD,
        odd_upload_fields,
        Standing(State.LOGGED_OUT, Holder.TOTP, needs=(upload_secrets,)),
        examples=100,
        encoding=Encoding.MULTIPART,
        headers={"Authorization": upload_credentials},
        usual=UPLOAD_FORM,
    ),
    Endpoint(
        "upload-without-valid-credentials",
        "POST",
        UPLOAD,
        odd_upload_fields,
        Standing(State.LOGGED_OUT, Holder.TOTP, needs=(upload_secrets,)),
        examples=120,
        encoding=Encoding.MULTIPART,
        headers={"Authorization": wrong_credentials},
        unauthorized=True,
        usual=UPLOAD_FORM,
    ),
)
"""Every endpoint of the contract that takes input, with its fields and requester's state."""

SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
)


def could_be_right(seat: Seat, values: list[str | bytes]) -> bool:
    """True when a value is, once normalised as a lenient target might, a code the seat's TOTP
    app shows around now."""
    app = seat.account.totp
    if app is None:
        return False
    codes = {app.code_at_step(app.step() + delta) for delta in range(-2, 3)}
    for value in values:
        if unicodedata.normalize("NFKC", "".join(decoded(value).split())) in codes:
            return True
    return False


def attempt(endpoint: Endpoint, seat: Seat, fuzzed: Fuzzed) -> requests.Response:
    """Send ``fuzzed`` from ``seat`` (after the priming GET, when the endpoint has one)."""
    if endpoint.guess and could_be_right(seat, fuzzed.values(endpoint.guess, seat.known)):
        reject()
    if endpoint.prime:
        seat.client.json_get(endpoint.prime.format(**seat.known))
    route = endpoint.route.format(**seat.known)
    return send(seat.client, endpoint.method, route, endpoint.encoding, fuzzed, seat.known)


def exchange(
    endpoint: Endpoint, requester: Requester, fuzzed: Fuzzed
) -> tuple[Seat, requests.Response]:
    """The answer to ``fuzzed``; after a 429, the answer to it from a fresh account, so that
    the input still reaches the validation behind the rate limit."""
    seat = requester.seat
    answer = attempt(endpoint, seat, fuzzed)
    if answer.status_code == 429 and requester.renewable:
        seat = requester.replace()
        answer = attempt(endpoint, seat, fuzzed)
        # A fresh account limited at once: the limit is per IP or global, and more accounts
        # would only be limited too.
        requester.renewable = answer.status_code != 429
    return seat, answer


Check = Callable[[Endpoint, Seat, Fuzzed, requests.Response], None]


def no_server_error(
    endpoint: Endpoint, seat: Seat, fuzzed: Fuzzed, answer: requests.Response
) -> None:
    """FUZZ-NO-5XX-01: any answer but 5xx (a 4xx, a form error, a redirect, a 429)."""
    assert answer.status_code < 500, f"{endpoint} answered {answer.status_code} to {fuzzed!r}"


def no_login(endpoint: Endpoint, seat: Seat, fuzzed: Fuzzed, answer: requests.Response) -> None:
    """FUZZ-NO-LOGIN-01: the answer completes no login step, and the session still cannot
    open the account page (it is sent to the login page)."""
    assert not moves_on(endpoint, answer), (
        f"{endpoint} let {fuzzed!r} through: {answer.status_code}"
        f" {answer.headers.get('Location') or answer.text[:300]!r}"
    )
    page = seat.client.get("/manage/account/")
    assert (page.status, page.location.split("?")[0]) == (303, "/account/login/"), (
        f"after {fuzzed!r} to {endpoint}, /manage/account/ answered {page.status}"
    )


def deletes_only_what_is_named(
    endpoint: Endpoint, seat: Seat, fuzzed: Fuzzed, answer: requests.Response
) -> None:
    """PROJECT-CONFIRM-01, -02: the thing is still there, unless a confirmation the request
    typed names it; once it is gone, another is made for the next request (before a failure
    too, so that the shrinker's smaller inputs have something to delete)."""
    deletion = endpoint.deletes
    assert deletion is not None, f"{endpoint} deletes nothing"
    page = deletion.page.format(**seat.known)
    status = seat.client.get(page).status
    if status == 200:
        return
    assert status == 404, f"after {fuzzed!r} to {endpoint}, {page} answered {status}"
    expected = seat.known[deletion.known]
    typed = fuzzed.values(deletion.field, seat.known)
    named = any(deletion.names(decoded(value), expected) for value in typed)
    deletion.remake(seat)
    assert named, (
        f"{endpoint} deleted {deletion.known} {expected!r} though no {deletion.field} named it:"
        f" {fuzzed!r} answered {answer.status_code} {answer.headers.get('Location')!r}"
    )


def no_upload_accepted(
    endpoint: Endpoint, seat: Seat, fuzzed: Fuzzed, answer: requests.Response
) -> None:
    """UPLOAD-TOKEN-02, -03: an upload without valid credentials (a removed token, a token of
    another project, a wrong one…) is refused: no 2xx."""
    assert not 200 <= answer.status_code < 300, (
        f"{endpoint} accepted {fuzzed!r}: {answer.status_code} {answer.text[:200]!r}"
    )


def moves_on(endpoint: Endpoint, answer: requests.Response) -> bool:
    """True for an answer that completes a login step: from a pending login, a redirect
    anywhere but the login page (where a refused one goes back) or WebAuthn's ``success`` JSON;
    from a logged-out session, a redirect to the second step (the password step passed)."""
    if answer.is_redirect:
        path = urlsplit(answer.headers.get("Location", "")).path
        if endpoint.standing.state is State.PENDING_SECOND_FACTOR:
            return not path.startswith("/account/login/")
        return path.startswith("/account/two-factor/")
    try:
        body = answer.json()
    except ValueError:
        return False
    return isinstance(body, dict) and ("success" in body or "redirect_to" in body)


def fuzz(endpoint: Endpoint, setup: Setup, checks: tuple[Check, ...]) -> None:
    """Send ``endpoint.examples`` generated requests to ``endpoint``; ``checks`` each answer."""
    requester = Requester(setup, endpoint.standing)

    @settings(SETTINGS, max_examples=endpoint.examples)
    @given(fuzzed=requests_to(endpoint.fields, endpoint.queries, endpoint.headers, endpoint.usual))
    def each_request(fuzzed: Fuzzed) -> None:
        seat, answer = exchange(endpoint, requester, fuzzed)
        try:
            for check in checks:
                check(endpoint, seat, fuzzed, answer)
        except AssertionError:
            # An input that logged the seat in: the next ones (the shrinker's smaller
            # candidates too) must not fail merely for coming after it.
            if endpoint.standing.state in GUARDED_STATES and logged_in(seat):
                requester.come_back()
            raise
        if answer.is_redirect and endpoint.still_ready and not endpoint.still_ready(seat):
            requester.come_back()

    each_request()


def endpoints(*states: State, logs_in: bool = False) -> list:
    """The endpoints of ``states`` (those whose valid request logs in, or the others), but
    those with a test of their own (deletions, uploads without valid credentials)."""
    return [
        pytest.param(endpoint, id=endpoint.name)
        for endpoint in ENDPOINTS
        if endpoint.standing.state in states
        and endpoint.logs_in is logs_in
        and endpoint.deletes is None
        and not endpoint.unauthorized
    ]


def deletions() -> list:
    """The destructive endpoints, each marked with the requirement its confirmation meets."""
    return [
        pytest.param(
            endpoint, id=endpoint.name, marks=pytest.mark.requirement(endpoint.deletes.requirement)
        )
        for endpoint in ENDPOINTS
        if endpoint.deletes is not None
    ]


def unauthorized() -> list:
    """The endpoints whose requests all lack valid credentials (uploads)."""
    return [
        pytest.param(endpoint, id=endpoint.name) for endpoint in ENDPOINTS if endpoint.unauthorized
    ]


class TestLoggedOut:
    @pytest.mark.requirement("FUZZ-NO-5XX-01", "FUZZ-NO-LOGIN-01")
    @pytest.mark.parametrize("endpoint", endpoints(State.LOGGED_OUT))
    def test_no_input_gets_a_server_error_or_logs_anyone_in(
        self, endpoint: Endpoint, requester_setup: Setup
    ) -> None:
        fuzz(endpoint, requester_setup, (no_server_error, no_login))

    @pytest.mark.requirement("FUZZ-NO-5XX-01")
    @pytest.mark.parametrize("endpoint", endpoints(State.LOGGED_OUT, logs_in=True))
    def test_no_registration_gets_a_server_error(
        self, endpoint: Endpoint, requester_setup: Setup
    ) -> None:
        # A valid registration logs its new user in, by contract: only 5xx is checked here.
        fuzz(endpoint, requester_setup, (no_server_error,))


class TestPendingSecondFactor:
    @pytest.mark.requirement("FUZZ-NO-5XX-01", "FUZZ-NO-LOGIN-01")
    @pytest.mark.parametrize("endpoint", endpoints(State.PENDING_SECOND_FACTOR))
    def test_no_input_gets_a_server_error_or_moves_the_login_on(
        self, endpoint: Endpoint, requester_setup: Setup
    ) -> None:
        fuzz(endpoint, requester_setup, (no_server_error, no_login))


class TestLoggedIn:
    @pytest.mark.requirement("FUZZ-NO-5XX-01")
    @pytest.mark.parametrize("endpoint", endpoints(State.LOGGED_IN, State.REAUTHENTICATED))
    def test_no_input_gets_a_server_error(self, endpoint: Endpoint, requester_setup: Setup) -> None:
        fuzz(endpoint, requester_setup, (no_server_error,))


class TestDeletion:
    @pytest.mark.destructive
    @pytest.mark.requirement("FUZZ-NO-5XX-01")
    @pytest.mark.parametrize("endpoint", deletions())
    def test_no_input_gets_a_server_error_or_deletes_what_it_does_not_name(
        self, endpoint: Endpoint, requester_setup: Setup
    ) -> None:
        fuzz(endpoint, requester_setup, (deletes_only_what_is_named, no_server_error))


class TestUpload:
    @pytest.mark.requirement(
        "FUZZ-NO-5XX-01", "FUZZ-NO-LOGIN-01", "UPLOAD-TOKEN-02", "UPLOAD-TOKEN-03"
    )
    @pytest.mark.parametrize("endpoint", unauthorized())
    def test_no_upload_without_valid_credentials_gets_a_server_error_or_is_accepted(
        self, endpoint: Endpoint, requester_setup: Setup
    ) -> None:
        fuzz(endpoint, requester_setup, (no_server_error, no_upload_accepted, no_login))
