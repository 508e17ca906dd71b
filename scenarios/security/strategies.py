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
    Cut,
    Drop,
    Edit,
    Edited,
    Encoded,
    Fuzzed,
    Known,
    Piece,
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

COPIES = st.sampled_from((1,) * 8 + (0, 2))
"""How many times a field is sent: once as a browser does, else missing or twice."""


@st.composite
def requests_to(
    draw: st.DrawFn,
    fields: Mapping[str, SearchStrategy[Piece]],
    queries: SearchStrategy[tuple[Piece, ...] | None],
) -> Fuzzed:
    """A request with the query from ``queries`` and each of ``fields`` from its strategy,
    sometimes missing or twice, sometimes with an unknown field; rarely a raw body of bytes."""
    query = draw(queries)
    if not fields:
        return Fuzzed(query)
    if draw(st.integers(0, 20)) == 20:
        return Fuzzed(query, body=draw(st.binary(max_size=2048)))
    sent: list[tuple[str, Piece]] = []
    for name, values in fields.items():
        sent += [(name, draw(values)) for _ in range(draw(COPIES))]
    if draw(st.integers(0, 8)) == 8:
        sent.append((draw(texts(max_size=12)), draw(anything)))
    return Fuzzed(query, tuple(sent))
