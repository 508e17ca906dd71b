"""Hypothesis strategies for the fuzz pass: field values, query strings, WebAuthn credentials
and whole requests (:class:`~scenarios.security.inputs.Fuzzed`).

Each field mixes values that pass the form's first checks (a well-formed code, a label of 1 to
64 characters, the session's own CSRF token), so that generated input reaches the deeper
validation, with anything at all; every mix lists the well-formed kind first, so a failure
shrinks toward the most ordinary request that still fails.
"""

from __future__ import annotations

import json
import string
from collections.abc import Mapping

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from scenarios.security.inputs import (
    Basic,
    Cut,
    DigestOf,
    Drop,
    Edit,
    Edited,
    Encoded,
    File,
    Fuzzed,
    Joined,
    Known,
    Piece,
    Raw,
    Repeated,
    SameAs,
    Spoiled,
    Swap,
)

MAX_CHARACTERS = 10_000
"""The longest generated string: about 10 kB (more in UTF-8 and percent-encoded)."""

ODD_CHARACTERS = (
    "\x00",
    "\x7f",
    "\x1b",
    "\r\n",
    "\t",
    "\u00a0",
    "\u200b",
    "\u202e",
    "\ufeff",
    "\ufffd",
    "\uffff",
    "\U0010ffff",
    "\u0301",
    "\ufb03",
    "\u0130",
    "\u00df",
    "\uff10",
    "\u0663",
    "\U0001f511",
    "%",
    "%00",
    "%zz",
    "%ff",
    "&",
    "=",
    "+",
    "?",
    "#",
    ";",
    "/",
    "\\",
    "../",
    "'",
    '"',
    "<",
    ">",
    "{}",
    "[]",
    "null",
)
"""Characters and snippets that trip parsers: NUL and controls, invisible and bidi marks,
characters NFKC changes, non-ASCII digits, URL and JSON syntax."""

BASE64URL = string.ascii_letters + string.digits + "-_"

characters = st.characters(codec="utf-8")
"""Any character a UTF-8 text can hold: every code point but the surrogates."""


def texts(min_size: int = 0, max_size: int = 40) -> SearchStrategy[str]:
    """Short text of any characters, odd ones often."""
    return st.lists(
        st.one_of(characters, st.sampled_from(ODD_CHARACTERS)), min_size=min_size, max_size=max_size
    ).map("".join)


@st.composite
def long_texts(draw: st.DrawFn) -> Repeated:
    """Text of up to :data:`MAX_CHARACTERS` characters, a short unit repeated."""
    unit = draw(texts(min_size=1, max_size=8))
    return Repeated(unit, draw(st.integers(2, max(2, MAX_CHARACTERS // len(unit)))))


anything: SearchStrategy[Piece] = st.one_of(texts(), long_texts(), st.binary(max_size=64))
"""Any value at all: text (empty included), long text, or bytes that need not be UTF-8."""


def either(*usual: SearchStrategy) -> SearchStrategy:
    """One of the ``usual`` values of a field, or anything at all."""
    return st.one_of(*usual, anything)


@st.composite
def mostly(draw: st.DrawFn, usual: SearchStrategy, other: SearchStrategy, odds: int = 4):
    """``usual`` ``odds`` times out of ``odds + 1``, else ``other`` (shrinks toward usual)."""
    return draw(usual) if draw(st.integers(0, odds)) < odds else draw(other)


def known(name: str) -> SearchStrategy[Known]:
    return st.just(Known(name))


def same_as(field: str) -> SearchStrategy[SameAs]:
    return st.just(SameAs(field))


def own(name: str, *alternatives: SearchStrategy[Piece]) -> SearchStrategy[Piece]:
    """Mostly the session's own ``name`` (a hidden field of the page's form, a token); else
    that value spoiled (cut, or with a tail), one of ``alternatives``, or anything."""
    spoiled = st.builds(Spoiled, known(name), st.none() | st.integers(0, 64), texts(max_size=12))
    return mostly(known(name), st.one_of(spoiled, *alternatives, anything))


csrf_tokens = own("csrf_token")
"""The form's CSRF token, or a missing, spoiled or foreign one."""

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(characters, max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(characters, max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
"""Any JSON value (NaN and infinities included, which Python's json writes and reads)."""

json_texts = st.one_of(
    json_values.map(json.dumps),
    st.builds(lambda text, keep: text[:keep], json_values.map(json.dumps), st.integers(0, 80)),
)
"""JSON text of any type, whole or truncated."""

totp_codes = st.one_of(
    st.from_regex(r"\s*[0-9]{3}\s?[0-9]{3}\s*", fullmatch=True),
    st.text("0123456789 \uff10\uff11\uff15\u0663", max_size=12),
)
"""Six digits as a person types them (spaces), and near misses: other lengths, full-width or
Arabic-Indic digits."""

recovery_codes = st.one_of(
    st.from_regex(r"\s*[0-9a-fA-F]{8}\s?[0-9a-fA-F]{8}\s*", fullmatch=True),
    st.text("0123456789abcdefABCDEFg ", min_size=14, max_size=18),
)
"""Sixteen hex characters as a person types them, and near misses."""

labels = st.text(characters, min_size=1, max_size=64).filter(str.strip)
"""Security-key labels the contract accepts: 1 to 64 characters, not blank."""

usernames = st.from_regex(r"[a-zA-Z0-9][a-zA-Z0-9._-]{0,20}[a-zA-Z0-9]", fullmatch=True)
"""Names of Warehouse's username pattern."""

emails = st.emails()

next_paths = st.sampled_from(
    ["/", "/manage/account/", "//evil.example/", "/\\evil.example/", "https://evil.example/"]
)
"""``next`` values: this site's pages and the classic open-redirect tricks."""

ASSERTION_PATHS = (
    ("response", "clientDataJSON"),
    ("response", "authenticatorData"),
    ("response", "signature"),
    ("response", "userHandle"),
    ("id",),
    ("rawId",),
    ("type",),
    ("response",),
    ("assertionClientExtensions",),
)
REGISTRATION_PATHS = (
    ("response", "clientDataJSON"),
    ("response", "attestationObject"),
    ("id",),
    ("rawId",),
    ("type",),
    ("response",),
    ("registrationClientExtensions",),
)
"""The keys of Warehouse's credential JSON (login and registration) that an edit changes, the
binary ones the verification reads first."""

changes = st.one_of(
    st.builds(Swap, st.integers(0, 400), st.sampled_from("!=. +/" + BASE64URL)),
    st.builds(Cut, st.integers(1, 120)),
    st.builds(Encoded, st.binary(max_size=300)),
    json_values.map(json.dumps).map(str.encode).map(Encoded),
    st.just(Drop.KEY),
    json_values,
)
"""What an edit does to a key: alter a character of its base64url or cut it (into base64url
no decoder takes, or different bytes), replace it with random bytes or with base64url of JSON,
remove it, or put a JSON value of any type in its place. Generation favours the first kinds
(the simplest choices), so the ones that reach furthest come first."""


def credentials(paths: tuple[tuple[str, ...], ...]) -> SearchStrategy[Piece]:
    """A WebAuthn credential JSON: mostly the requester's genuine-looking one with one to three
    edits (which get furthest into the verification); else it truncated, JSON of another
    shape, random bytes or anything."""
    edits = st.lists(st.builds(Edit, st.sampled_from(paths), changes), min_size=1, max_size=3)
    truncated = st.builds(Spoiled, known("credential"), st.integers(0, 400), st.just(""))
    return mostly(
        st.builds(Edited, known("credential"), edits.map(tuple)),
        st.one_of(truncated, json_texts, st.binary(max_size=600), anything),
        odds=2,
    )


def query_with(name: str, values: SearchStrategy[Piece]) -> SearchStrategy[tuple[Piece, ...]]:
    """``name=<value>`` mostly; else a query string of anything (a missing or doubled key)."""
    return mostly(
        st.tuples(st.just(f"{name}="), values),
        st.one_of(
            st.tuples(texts()),
            st.tuples(st.just(f"{name}="), values, st.just(f"&{name}="), values),
        ),
    )


pending_queries = st.tuples(own("pending_token"))
"""The pending login's URL query, which is its whole token: the genuine one, spoiled
(truncated, with ``&next=…`` or anything appended) or anything."""

no_queries = mostly(st.none(), st.tuples(st.one_of(texts(), long_texts())))
"""No query string mostly, else junk the endpoint should ignore."""


def altered(name: str) -> SearchStrategy[Spoiled]:
    """The session's own secret ``name`` (a password, an API token), never as it is: cut to at
    most 20 characters (both are longer) then given a tail, or whole with a tail of at least
    one character."""
    return st.one_of(
        st.builds(Spoiled, known(name), st.integers(0, 20), texts(max_size=12)),
        st.builds(Spoiled, known(name), st.none(), texts(min_size=1, max_size=12)),
    )


def joined(*parts: SearchStrategy[Piece]) -> SearchStrategy[Joined]:
    """The ``parts`` sent as one text."""
    return st.tuples(*parts).map(Joined)


descriptions = st.one_of(
    st.text(characters, min_size=1, max_size=100).filter(str.strip),
    st.text(characters, min_size=101, max_size=120),
)
"""API token names: the 1 to 100 characters the form takes, and a little longer."""

project_names = st.from_regex(r"[a-zA-Z0-9]([a-zA-Z0-9._-]{0,30}[a-zA-Z0-9])?", fullmatch=True)
"""Names of PEP 508's project-name pattern."""

pep440_versions = st.from_regex(
    r"(v|[0-9]!)?[0-9]{1,4}(\.[0-9]{1,4}){0,3}((a|b|rc)[0-9]{0,2})?(\.post[0-9]{0,2})?"
    r"(\.dev[0-9]{0,2})?(\+[a-z0-9]{1,4}(\.[a-z0-9]{1,4})?)?",
    fullmatch=True,
)
"""PEP 440 versions, with epochs, pre, post, dev and local parts."""

versions = st.one_of(
    pep440_versions, st.text("0123456789.abcdefrcpostv+-_! ", min_size=1, max_size=16)
)
"""PEP 440 versions and near misses."""

AROUND = st.sampled_from(["", " ", "\t", "\n", "\u00a0", "\u200b", "\x00", "\ufeff", "."])
"""What a typed confirmation may have around it: whitespace, which a target may strip, and
characters that only look like it."""


def confirmations(name: str, other: str) -> SearchStrategy[Piece]:
    """What is typed to confirm deleting the thing the known value ``name`` names: mostly
    near misses (cut, with a tail, with characters around it, the known value ``other``) or
    anything; by chance the value itself (no cut, no tail) or with only whitespace around it.

    The strategy may type the right value, which deletes the thing: the test makes another
    for the next request (see the fuzz pass's ``Deletion``)."""
    return st.one_of(
        st.builds(Spoiled, known(name), st.none() | st.integers(0, 12), texts(max_size=6)),
        joined(AROUND, known(name), AROUND),
        joined(texts(min_size=1, max_size=4), known(name)),
        known(other),
        anything,
    )


TOKEN_SCOPES = ("scope:user", "scope:project:", "scope:", "scope:project", "scope:org:")

role_names = st.sampled_from(["Owner", "Maintainer"])

token_scopes = st.one_of(
    st.just(TOKEN_SCOPES[0]),
    joined(st.just(TOKEN_SCOPES[1]), known("project")),
    joined(st.sampled_from(TOKEN_SCOPES), st.one_of(known("project"), project_names, texts())),
)
"""``token_scope`` values: the account, the session's project, another name or none."""

TOKEN_USERNAME = "__token__"
NOT_THE_TOKEN_USERNAME = ("", "token", "__token", "_token__", "pypi", "__token__x")
"""Usernames a genuine API token must not be accepted with. (Case variants of ``__token__`` are
left out: a target may compare it without case, as HTTP does the scheme.)"""

SCHEMES = ("Basic", "Bearer", "Digest", "Negotiate", "Basic  ", "", "Basic=")

wrong_credentials = st.one_of(
    # A genuine token that must not upload here: removed, or scoped to another project.
    st.builds(
        Basic,
        st.just(TOKEN_USERNAME),
        st.sampled_from([Known("removed_token"), Known("scoped_token")]),
    ),
    # The token username with a token that is none of the account's.
    st.builds(
        Basic,
        st.just(TOKEN_USERNAME),
        st.one_of(
            altered("token"), joined(st.just("pypi-"), st.text(BASE64URL, max_size=60)), anything
        ),
    ),
    # The account's valid token with another username.
    st.builds(
        Basic, st.one_of(known("username"), st.sampled_from(NOT_THE_TOKEN_USERNAME)), known("token")
    ),
    # A username with a wrong password (under either policy: the right one is never sent).
    st.builds(Basic, st.one_of(known("username"), usernames, anything), altered("password")),
    st.builds(Basic, anything, anything),
    # No credentials, another scheme, or a header no parser expects.
    st.none(),
    st.builds(Raw, joined(st.just("Basic "), st.one_of(texts(), anything))),
    st.builds(Raw, joined(st.sampled_from(SCHEMES), st.just(" "), altered("token"))),
    st.builds(Raw, joined(st.sampled_from(SCHEMES), st.just(" "), st.one_of(texts(), anything))),
    st.builds(Raw, anything),
)
"""``Authorization`` headers without valid credentials for an upload to the session's project:
a removed token, another project's token, a wrong token, the right token with another username,
a wrong password, nothing, another scheme, junk. The account's token (``token``) never goes
with ``__token__`` and its password is never sent as it is, so that none of them is right,
whatever the target's policy on passwords."""

upload_credentials = mostly(
    st.builds(Basic, st.just(TOKEN_USERNAME), known("token")), wrong_credentials
)
"""Mostly the account's valid token, so that the fields reach the validation behind it."""

WHEEL_SUFFIX = "-py3-none-any.whl"

UPLOAD_FORM = {
    ":action": st.just("file_upload"),
    "protocol_version": st.just("1"),
    "metadata_version": st.just("2.1"),
    "name": known("project"),
    "version": pep440_versions,
    "filetype": st.just("bdist_wheel"),
    "pyversion": st.just("py3"),
    "summary": st.just("A probe package."),
    "content": st.builds(
        File,
        joined(same_as("name"), st.just("-"), same_as("version"), st.just(WHEEL_SUFFIX)),
        known("wheel"),
    ),
    "sha256_digest": st.just(DigestOf("content")),
}
"""An upload of the session's project as twine posts it: a wheel named after the request's
name and version (which come before it), then the wheel's own digest."""


def with_junk(value: SearchStrategy[Piece]) -> SearchStrategy[Joined]:
    """``value`` with one to four characters after it: any, or beyond ASCII (which a target
    may quote where only ASCII or Latin-1 fits, such as a header or a status line)."""
    non_ascii = st.text(st.characters(min_codepoint=0x80, codec="utf-8"), min_size=1, max_size=2)
    return joined(value, st.one_of(texts(min_size=1, max_size=4), non_ascii))


ODD_FILE_NAMES = ("", ".whl", "x.tar.gz", "../a-1.0.zip", "a\\b-1.whl", "a-1.exe")

odd_upload_fields = {
    ":action": either(st.sampled_from(["submit", "doc_upload", "file_upload "])),
    "protocol_version": anything,
    "metadata_version": either(st.sampled_from(["2.4", "1.0", "3.0"])),
    "name": either(project_names, with_junk(known("project"))),
    "version": either(versions, with_junk(pep440_versions)),
    "filetype": either(st.just("sdist")),
    "pyversion": either(st.just("source")),
    "summary": anything,
    "content": either(
        st.builds(
            File,
            st.one_of(
                st.sampled_from(ODD_FILE_NAMES),
                joined(same_as("name"), texts(max_size=8), st.sampled_from([".whl", ".tar.gz"])),
                texts(),
            ),
            st.one_of(known("wheel"), st.binary(max_size=256)),
        )
    ),
    "sha256_digest": either(
        st.from_regex(r"[0-9a-fA-F]{64}", fullmatch=True), with_junk(st.just(DigestOf("content")))
    ),
}
"""Each upload field odd: another action, a project name or version of the right form but
another or with junk after it, an odd or unsafe file name, random bytes for the file, another
digest; or anything."""


COPIES = st.sampled_from((1,) * 8 + (0, 2))
"""How many times a field is sent: once as a browser does, else missing or twice."""


@st.composite
def requests_to(
    draw: st.DrawFn,
    fields: Mapping[str, SearchStrategy[Piece]],
    queries: SearchStrategy[tuple[Piece, ...] | None],
    headers: Mapping[str, SearchStrategy[Piece | None]] | None = None,
    usual: Mapping[str, SearchStrategy[Piece]] | None = None,
) -> Fuzzed:
    """A request with the query from ``queries`` and each of ``fields`` from its strategy,
    sometimes missing or twice, sometimes with an unknown field; rarely a raw body of bytes.
    Each of ``headers`` is drawn first (None: not sent).

    :param usual: each field's well-formed value: when given, one to three fields, drawn,
        come from ``fields`` and the others from ``usual``, so that a request gets past every
        check but the one its odd fields meet (forms of many fields, an upload).
    """
    drawn = ((name, draw(values)) for name, values in (headers or {}).items())
    sent_headers = tuple((name, value) for name, value in drawn if value is not None)
    query = draw(queries)
    if not fields:
        return Fuzzed(query, headers=sent_headers)
    if draw(st.integers(0, 20)) == 20:
        return Fuzzed(query, body=draw(st.binary(max_size=2048)), headers=sent_headers)
    odd = set(fields)
    if usual is not None:
        odd = draw(st.sets(st.sampled_from(list(fields)), min_size=1, max_size=3))
    sent: list[tuple[str, Piece]] = []
    for name, values in fields.items():
        strategy = values if name in odd or usual is None else usual[name]
        sent += [(name, draw(strategy)) for _ in range(draw(COPIES))]
    if draw(st.integers(0, 8)) == 8:
        sent.append((draw(texts(max_size=12)), draw(anything)))
    return Fuzzed(query, tuple(sent), headers=sent_headers)
