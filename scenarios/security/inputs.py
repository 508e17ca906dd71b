"""What a fuzzed request is, and how it is sent.

Some values of a request are only known to the session that sends it: the CSRF token its page
carries, the pending login's token, a link mailed to its account. Hypothesis draws them as
symbols (:class:`Known`, and values built on one), filled in at the moment the request is sent,
for two reasons: a requester replaced after a rate limit sends the same input with its own
tokens, and a failure's report shows ``<csrf_token>`` or ``<pending_token>[:5] + 'x'``, never a
token, password or code of a test account.
"""

from __future__ import annotations

import base64
import copy
import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

from harness.client import IndexClient


@dataclass(frozen=True)
class Known:
    """A value the requester's session holds, by name: a field of its page's form
    (``csrf_token``, ``label``…), ``username``, ``pending_token``, ``credential``…"""

    name: str

    def __repr__(self) -> str:
        return f"<{self.name}>"


@dataclass(frozen=True)
class Spoiled:
    """A known value cut after ``keep`` characters (kept whole when None), then ``tail``."""

    value: Known
    keep: int | None
    tail: str

    def __repr__(self) -> str:
        cut = "" if self.keep is None else f"[:{self.keep}]"
        return f"{self.value!r}{cut} + {self.tail!r}"


@dataclass(frozen=True)
class SameAs:
    """The value the request gives another field (``password_confirm`` = ``new_password``)."""

    field: str

    def __repr__(self) -> str:
        return f"<same as {self.field}>"


@dataclass(frozen=True)
class Repeated:
    """A long string, kept short in reports: ``unit`` repeated ``times`` times."""

    unit: str
    times: int

    def __repr__(self) -> str:
        return f"{self.unit!r} * {self.times}"


class Drop(enum.Enum):
    """An edit that removes the key."""

    KEY = "removed"

    def __repr__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Encoded:
    """``data`` as base64url without padding, as WebAuthn's JSON carries binary values."""

    data: bytes

    def __repr__(self) -> str:
        return f"b64url({self.data!r})"


@dataclass(frozen=True)
class Cut:
    """The edited value (as text) cut after ``keep`` characters."""

    keep: int

    def __repr__(self) -> str:
        return f"[:{self.keep}]"


@dataclass(frozen=True)
class Swap:
    """The edited value (as text) with character ``index`` (modulo its length) set to ``char``;
    in base64url that changes 6 bits of the bytes it encodes."""

    index: int
    char: str

    def __repr__(self) -> str:
        return f"[{self.index}]={self.char!r}"


Change = Drop | Encoded | Cut | Swap | None | bool | int | float | str | list | dict


@dataclass(frozen=True)
class Edit:
    """One change at ``path`` (keys from the top of the JSON object)."""

    path: tuple[str, ...]
    change: Change

    def __repr__(self) -> str:
        return f"{'.'.join(self.path)} {self.change!r}"


@dataclass(frozen=True)
class Edited:
    """A known JSON object (a credential the requester's key signed for another challenge,
    so that no edit can make it valid) with ``edits`` applied, sent as JSON text."""

    value: Known
    edits: tuple[Edit, ...]

    def __repr__(self) -> str:
        return f"{self.value!r} with {', '.join(map(repr, self.edits))}"


@dataclass(frozen=True)
class Joined:
    """Pieces sent as one text: ``scope:project:`` + ``<project>``, a file name."""

    parts: tuple[Piece, ...]

    def __repr__(self) -> str:
        return " + ".join(map(repr, self.parts))


@dataclass(frozen=True)
class DigestOf:
    """The hex SHA-256 of the file the request sends in field ``field`` (an upload's
    ``sha256_digest``)."""

    field: str

    def __repr__(self) -> str:
        return f"<sha256 of {self.field}>"


@dataclass(frozen=True)
class File:
    """A file part of a multipart body: ``filename`` and ``data``."""

    filename: Piece
    data: Piece

    def __repr__(self) -> str:
        return f"file({self.filename!r}, {self.data!r})"


@dataclass(frozen=True)
class Basic:
    """An ``Authorization`` header of the basic scheme: ``username:password`` in UTF-8 and
    base64, as twine sends its credentials."""

    username: Piece
    password: Piece

    def __repr__(self) -> str:
        return f"Basic({self.username!r}, {self.password!r})"


@dataclass(frozen=True)
class Raw:
    """A header value as it is, but for what no HTTP client sends: line breaks are removed and
    leading whitespace stripped."""

    value: Piece

    def __repr__(self) -> str:
        return f"raw({self.value!r})"


Piece = (
    str
    | bytes
    | Known
    | Spoiled
    | SameAs
    | Repeated
    | Edited
    | Joined
    | DigestOf
    | File
    | Basic
    | Raw
)
Fields = tuple[tuple[str, Piece], ...]
Value = str | bytes | tuple[str, bytes]
"""A filled-in field: text, bytes, or a file's name and data."""


class Encoding(enum.Enum):
    """How an endpoint takes its input."""

    QUERY = "query string only (GET)"
    FORM = "application/x-www-form-urlencoded, as an HTML form posts"
    MULTIPART = "multipart/form-data, as the WebAuthn pages' FormData and twine post"


@dataclass(frozen=True)
class Fuzzed:
    """One generated request: a query string (None: none) and the form's fields, in order,
    any of them missing or repeated; or, instead of fields, a raw ``body`` of bytes. The
    ``headers`` go with either."""

    query: tuple[Piece, ...] | None
    fields: Fields = ()
    body: bytes | None = None
    headers: Fields = ()

    def values(self, name: str, known: Mapping[str, Any]) -> list[Value]:
        """What the request sends for field ``name``, filled in."""
        resolved = self.resolved_fields(known)
        return [value for field, value in resolved if field == name]

    def resolved_fields(self, known: Mapping[str, Any]) -> list[tuple[str, Value]]:
        resolved: list[tuple[str, Value]] = []
        for name, piece in self.fields:
            resolved.append((name, fill(piece, known, resolved)))
        return resolved

    def resolved_headers(self, known: Mapping[str, Any]) -> dict[str, bytes]:
        return {name: header_value(fill(piece, known, [])) for name, piece in self.headers}

    def resolved_query(self, known: Mapping[str, Any]) -> str | None:
        if self.query is None:
            return None
        return "".join(decoded(fill(piece, known, [])) for piece in self.query)


def fill(piece: Piece, known: Mapping[str, Any], earlier: list[tuple[str, Value]]) -> Any:
    """The value ``piece`` stands for in the requester's session.

    :param earlier: the fields filled in so far (what :class:`SameAs` refers to).
    """
    match piece:
        case Known(name):
            value = known[name]
            return value if isinstance(value, str | bytes) else json.dumps(value)
        case Spoiled(value, keep, tail):
            text = decoded(fill(value, known, earlier))
            return (text if keep is None else text[:keep]) + tail
        case SameAs(field):
            return next((value for name, value in earlier if name == field), "")
        case Repeated(unit, times):
            return unit * times
        case Edited(value, edits):
            document = copy.deepcopy(known[value.name])
            for edit in edits:
                document = _apply(document, edit)
            return json.dumps(document)
        case Joined(parts):
            return "".join(decoded(fill(part, known, earlier)) for part in parts)
        case DigestOf(field):
            sent = next((value for name, value in earlier if name == field), b"")
            data = sent[1] if isinstance(sent, tuple) else _as_bytes(sent)
            return hashlib.sha256(data).hexdigest()
        case File(filename, data):
            return decoded(fill(filename, known, earlier)), _as_bytes(fill(data, known, earlier))
        case Basic(username, password):
            pair = _as_bytes(fill(username, known, earlier)) + b":"
            pair += _as_bytes(fill(password, known, earlier))
            return b"Basic " + base64.b64encode(pair)
        case Raw(value):
            return fill(value, known, earlier)
    return piece


def _apply(document: Any, edit: Edit) -> Any:
    """``document`` with ``edit`` made; an edit whose path another edit took away is skipped."""
    *parents, key = edit.path
    node = document
    for parent in parents:
        node = node.get(parent) if isinstance(node, dict) else None
    if not isinstance(node, dict):
        return document
    match edit.change:
        case Drop():
            node.pop(key, None)
        case Encoded(data):
            node[key] = base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
        case Cut(keep):
            node[key] = _as_text(node.get(key))[:keep]
        case Swap(index, char):
            text = _as_text(node.get(key))
            at = index % max(len(text), 1)
            node[key] = text[:at] + char + text[at + 1 :]
        case change:
            node[key] = change
    return document


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def decoded(value: str | bytes) -> str:
    """``value`` as text: bytes decoded as UTF-8, what is not UTF-8 replaced."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _as_bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")


def header_value(value: str | bytes) -> bytes:
    """``value`` as a header's bytes (UTF-8) that an HTTP client sends: without line breaks or
    leading whitespace, which requests and http.client refuse to send."""
    return _as_bytes(value).replace(b"\r", b"").replace(b"\n", b"").lstrip()


RAW_CONTENT_TYPES = {
    Encoding.FORM: "application/x-www-form-urlencoded",
    Encoding.MULTIPART: "multipart/form-data; boundary=fuzz",
}


def send(
    client: IndexClient,
    method: str,
    path: str,
    encoding: Encoding,
    fuzzed: Fuzzed,
    known: Mapping[str, Any],
) -> requests.Response:
    """Send ``fuzzed`` to ``path`` on the requester's HTTP session, following no redirect.

    The query string is put after the whole URL as it is, so that nothing parses it first.
    """
    query = fuzzed.resolved_query(known)
    url = client.url(path) + ("" if query is None else f"?{query}")
    headers: dict[str, str | bytes] = {**fuzzed.resolved_headers(known)}
    if method == "GET":
        return client.request("GET", url, headers=headers)
    if fuzzed.body is not None:
        headers["Content-Type"] = RAW_CONTENT_TYPES[encoding]
        return client.request("POST", url, data=fuzzed.body, headers=headers)
    fields = fuzzed.resolved_fields(known)
    if encoding is Encoding.MULTIPART and fields:
        files = [
            (name, value if isinstance(value, tuple) else (None, value)) for name, value in fields
        ]
        return client.request("POST", url, files=files, headers=headers)
    return client.request("POST", url, data=fields, headers=headers)
