"""Remove secrets from the files a run writes: reports, logs, attachments, Playwright traces.

Two kinds of knowledge drive it:

* the values themselves (by default every :class:`~harness.redaction.Secret` this process
  made, see :func:`~harness.redaction.known_secrets`), replaced in every form a report may
  hold them in: as is, percent-encoded, HTML-escaped, JSON-escaped, base64;
* patterns that need no value: HTTP ``Cookie``/``Set-Cookie``/``Authorization``/
  ``Proxy-Authorization`` header values, cookie lists, PyPI API tokens, the ``secret`` of
  ``otpauth://`` URIs and ``data:image/...`` URIs (a QR code carries the TOTP seed).

Pixels cannot be scrubbed: image members of zip files (a trace's screencast frames and the
images it recorded) are dropped, together with the trace events that point at them. Image
files outside zips are left alone; screenshots are masked when they are taken.

Every rewrite is atomic (a temporary file in the same folder, then :func:`os.replace`) and
happens only when something changed, so other processes may keep writing in the same tree.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import json
import os
import re
import stat
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

from harness.redaction import MIN_SECRET_LENGTH, known_secrets

MASK = "***"

IMAGE_SUFFIXES = frozenset({".jpeg", ".jpg", ".png", ".webp", ".gif", ".avif", ".bmp", ".svg"})
"""Zip members with these endings are dropped. SVG is among them: PyPI serves the TOTP
provisioning QR code as SVG, and its paths decode as well as pixels do."""

JSON_LINES_SUFFIXES = frozenset({".trace", ".network"})
"""Playwright's event logs inside a trace zip: one JSON document a line."""

TEMP_PREFIX = ".scrub-"
"""Temporary files this module writes start so; :func:`scrub_tree` passes them by."""

_HEADERS = r"(?:Set-Cookie|Cookie|Proxy-Authorization|Authorization)"
_HEADER_NAMES = frozenset({"set-cookie", "cookie", "proxy-authorization", "authorization"})
_JSON_STRING_BODY = r'(?:[^"\\]|\\.)*'

# Patterns that need no knowledge of values, each with its replacement.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # data:image/png;base64,… and data:image/svg+xml,%3Csvg… (an escaped "/" in JSON too)
    (
        re.compile(r"(?i)(data:image/[\w.+-]+(?:;[\w.+=-]+)*,)(?:[^\s\"'<>)\\]|\\/)+"),
        rf"\g<1>{MASK}",
    ),
    # otpauth://totp/Issuer:name?secret=BASE32&issuer=… (also &amp; and JSON's \/)
    (
        re.compile(
            r"(?i)(otpauth(?:-migration)?:(?:\\?/){2}[^\s\"'<>]*?[?&;]secret=)[^&\s\"'<>#\\]+"
        ),
        rf"\g<1>{MASK}",
    ),
    # the same URI percent-encoded, as a query parameter of another URL
    (
        re.compile(r"(?i)(otpauth%3A%2F%2F[^\s\"'<>&]*?(?:%3F|%26)secret%3D)(?:[A-Za-z0-9]|%3D)+"),
        rf"\g<1>{MASK}",
    ),
    # PyPI API tokens, macaroons included: "pypi-" and URL-safe base64
    (re.compile(r"pypi-[A-Za-z0-9_-]{20,}"), f"pypi-{MASK}"),
    # Playwright/HAR headers: {"name": "Cookie", "value": "…"}, either order
    (
        re.compile(rf'(?i)("name"\s*:\s*"{_HEADERS}"\s*,\s*"value"\s*:\s*"){_JSON_STRING_BODY}(")'),
        rf"\g<1>{MASK}\g<2>",
    ),
    (
        re.compile(rf'(?i)("value"\s*:\s*"){_JSON_STRING_BODY}("\s*,\s*"name"\s*:\s*"{_HEADERS}")'),
        rf"\g<1>{MASK}\g<2>",
    ),
    # header dictionaries: {"Cookie": "…"} in JSON, {'Cookie': '…'} in a Python repr
    (
        re.compile(rf"(?i)([\"']{_HEADERS}[\"']\s*:\s*)([\"'])(?:(?!\2)[^\\]|\\.)*\2"),
        rf"\g<1>\g<2>{MASK}\g<2>",
    ),
    # header lines: "Cookie: …" up to the end of the line or of the JSON string it is in
    (
        re.compile(rf"(?i)\b({_HEADERS}[ \t]*:[ \t]*)(?:[^\r\n\"\\]|\\[^nrt])+"),
        rf"\g<1>{MASK}",
    ),
    # the repr of an http.cookiejar.Cookie: <Cookie session=… for localhost.local/>
    (re.compile(r"(<Cookie [^\s=]+=)[^\s>]*( for )"), rf"\g<1>{MASK}\g<2>"),
)

# "cookies": [{"name": "session", "value": "…", …}, …] in traces, HAR and storage state
_COOKIE_LIST = re.compile(r'(?i)("cookies"\s*:\s*\[)((?:[^\[\]"]|"(?:[^"\\]|\\.)*")*)(\])')
_JSON_VALUE = re.compile(rf'("value"\s*:\s*"){_JSON_STRING_BODY}(")')


def scrub_text(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret and every credential-shaped value replaced by :data:`MASK`.

    Each of ``secrets`` is replaced as is, percent-encoded (``quote`` and ``quote_plus``),
    HTML-escaped (``html.escape`` and Jinja's ``&#39;``/``&#34;``), JSON-escaped (ASCII or
    not, also of each of those forms) and base64-encoded (standard and URL-safe, at any of the
    three alignments inside a longer base64 text); the longest form matching at a position
    wins, so no part of a longer form is left behind. Secrets shorter than
    :data:`~harness.redaction.MIN_SECRET_LENGTH` are ignored.

    Then, whatever their value: HTTP ``Cookie``, ``Set-Cookie``, ``Authorization`` and
    ``Proxy-Authorization`` values (header lines, header dictionaries, Playwright/HAR
    ``{"name": …, "value": …}`` entries), the ``value`` of every entry of a ``"cookies"``
    list, PyPI API tokens (kept as ``pypi-***``), the ``secret`` parameter of ``otpauth://``
    URIs and the payload of ``data:image/…`` URIs.

    Everything else is kept as it was; replacing inside a JSON string keeps it a JSON string.
    Scrubbing scrubbed text changes nothing.
    """
    pattern = _secrets_pattern(_usable(secrets))
    if pattern is not None:
        text = pattern.sub(MASK, text)
    for regex, replacement in _PATTERNS:
        text = regex.sub(replacement, text)
    return _COOKIE_LIST.sub(_mask_cookie_list, text)


def scrub_file(path: Path, secrets: Iterable[str]) -> bool:
    """Scrub the file at ``path`` in place; whether it changed.

    A zip file (a Playwright ``trace.zip``) is rewritten member by member: image members
    (:data:`IMAGE_SUFFIXES`, or image content by its magic bytes) are dropped; in the JSON
    lines members (:data:`JSON_LINES_SUFFIXES`) ``screencast-frame`` events are dropped, and
    references to dropped members are removed from the other events (the network entry's
    ``_file``, a snapshot's resource ``sha1``), and every line stays valid JSON; every other
    UTF-8 member goes through :func:`scrub_text`; other binary members are kept. Member names,
    order, dates and compression are kept, so the zip stays a trace Playwright can open.

    Any other file is scrubbed as UTF-8 text with :func:`scrub_text` (a ``.json`` file that
    parsed before still parses after); a file that is neither UTF-8 nor a zip is left alone.

    The file is replaced atomically, and only when something changed. A file that vanishes,
    a zip that cannot be read (another process is still writing it) and a file that changes
    while it is being scrubbed are skipped, and this returns ``False`` for them.
    """
    scrubbed = _Scrubber(_usable(secrets))
    try:
        before = os.lstat(path)
        if not stat.S_ISREG(before.st_mode):
            return False
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        return False
    is_zip = data[:4] in _ZIP_MAGIC
    new = scrubbed.zip(data) if is_zip else scrubbed.text_bytes(path.name, data)
    if new is None or new == data:
        return False
    return _replace(path, new, before)


def scrub_tree(folder: Path, secrets: Iterable[str] | None = None) -> int:
    """Scrub every regular file under ``folder`` with :func:`scrub_file`; how many changed.

    ``secrets`` defaults to :func:`~harness.redaction.known_secrets`. Symbolic links are
    neither followed nor scrubbed, ``.png`` files (screenshots, masked when taken) and this
    module's own temporary files are left alone. Safe to run while other processes write
    into the tree: see :func:`scrub_file`.
    """
    values = _usable(known_secrets() if secrets is None else secrets)
    changed = 0
    for dirpath, _dirnames, filenames in os.walk(folder, followlinks=False):
        for name in filenames:
            if name.startswith(TEMP_PREFIX) or name.lower().endswith(".png"):
                continue
            if scrub_file(Path(dirpath) / name, values):
                changed += 1
    return changed


# --- secret values -----------------------------------------------------------------------


def _usable(secrets: Iterable[str]) -> frozenset[str]:
    """The secrets as plain strings, without those too short to replace safely."""
    if isinstance(secrets, frozenset) and all(type(s) is str for s in secrets):
        return frozenset(s for s in secrets if len(s) >= MIN_SECRET_LENGTH)
    return frozenset(str.__str__(s) for s in secrets if len(s) >= MIN_SECRET_LENGTH)


def _jinja_escape(value: str) -> str:
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


def _base64_forms(raw: bytes) -> set[str]:
    """Base64 of ``raw``, padded and not, and the characters that encode only ``raw`` when it
    starts one or two bytes into a longer base64 text; each also URL-safe."""
    forms = {base64.b64encode(raw).decode()}
    for offset, skip in ((0, 0), (1, 2), (2, 3)):
        encoded = base64.b64encode(b"\0" * offset + raw).decode().rstrip("=")
        if (offset + len(raw)) % 3:
            encoded = encoded[:-1]  # its last character also holds bits of the next byte
        forms.add(encoded[skip:])
    return forms | {form.replace("+", "-").replace("/", "_") for form in forms}


def _forms(secret: str) -> set[str]:
    """Every form in which ``secret`` may appear in a report."""
    plain = {
        secret,
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        html.escape(secret),
        html.escape(secret, quote=False),
        _jinja_escape(secret),
        *_base64_forms(secret.encode()),
    }
    forms = set(plain)
    for form in plain:
        forms.add(json.dumps(form)[1:-1])
        forms.add(json.dumps(form, ensure_ascii=False)[1:-1])
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


@functools.lru_cache(maxsize=8)
def _secrets_pattern(secrets: frozenset[str]) -> re.Pattern[str] | None:
    """One regex for every form of every secret, built as a trie so that matching stays fast
    with thousands of forms and the longest form at a position wins."""
    trie: dict[str, Any] = {}
    for secret in secrets:
        for form in _forms(secret):
            node = trie
            for char in form:
                node = node.setdefault(char, {})
            node[""] = {}
    if not trie:
        return None
    return re.compile(_trie_regex(trie))


def _trie_regex(node: dict[str, Any]) -> str:
    """The regex of a trie: greedy optional tails make longer forms win."""
    branches = [re.escape(char) + _trie_regex(child) for char, child in node.items() if char]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if "" in node else body


def _mask_cookie_list(match: re.Match[str]) -> str:
    values = _JSON_VALUE.sub(rf"\g<1>{MASK}\g<2>", match.group(2))
    return match.group(1) + values + match.group(3)


# --- files ---------------------------------------------------------------------------------


class _Scrubber:
    """Scrubs text, JSON and zip contents for one set of secrets."""

    def __init__(self, secrets: frozenset[str]) -> None:
        self.secrets = secrets

    def text(self, text: str) -> str:
        return scrub_text(text, self.secrets)

    def text_bytes(self, name: str, data: bytes) -> bytes | None:
        """Scrubbed UTF-8 content, or ``None`` when ``data`` is not UTF-8."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        suffix = os.path.splitext(name)[1].lower()
        if suffix == ".json":
            return self.json_document(text).encode("utf-8")
        if suffix in JSON_LINES_SUFFIXES or suffix in {".jsonl", ".ndjson"}:
            return self.json_lines(text, frozenset()).encode("utf-8")
        return self.text(text).encode("utf-8")

    def json_document(self, text: str) -> str:
        """Scrubbed JSON text that still parses if it parsed before."""
        scrubbed = self.text(text)
        if scrubbed == text:
            return text
        try:
            document = json.loads(text)
        except ValueError:
            return scrubbed  # not (yet) complete JSON: scrub it as text
        try:
            json.loads(scrubbed)
        except ValueError:
            return json.dumps(self.json_value(document), ensure_ascii=False)
        return scrubbed

    def json_value(self, value: Any, key: str = "") -> Any:
        """``value`` with every string scrubbed and header and cookie values masked, walking
        the structure (the fallback when scrubbing the text would break it)."""
        if isinstance(value, str):
            return MASK if key.lower() in _HEADER_NAMES else self.text(value)
        if isinstance(value, list):
            if key.lower() == "cookies":
                return [_masked_cookie(self.json_value(item)) for item in value]
            return [self.json_value(item) for item in value]
        if isinstance(value, dict):
            scrubbed = {self.text(k): self.json_value(v, k) for k, v in value.items()}
            name = value.get("name")
            if isinstance(name, str) and name.lower() in _HEADER_NAMES and "value" in scrubbed:
                scrubbed["value"] = MASK
            return scrubbed
        return value

    def json_lines(self, text: str, dropped: frozenset[str]) -> str:
        """A trace event log scrubbed line by line; see :func:`scrub_file`."""
        lines = []
        for line in text.splitlines(keepends=True):
            body = line.rstrip("\r\n")
            ending = line[len(body) :]
            try:
                event = json.loads(body)
            except ValueError:
                lines.append(self.text(body) + ending)  # blank, or cut short by a writer
                continue
            if isinstance(event, dict) and event.get("type") == "screencast-frame":
                continue
            if dropped and _drop_references(event, dropped):
                body = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
            scrubbed = self.text(body)
            try:
                json.loads(scrubbed)
            except ValueError:
                scrubbed = json.dumps(
                    self.json_value(event), ensure_ascii=False, separators=(",", ":")
                )
            lines.append(scrubbed + ending)
        return "".join(lines)

    def zip(self, data: bytes) -> bytes | None:
        """The scrubbed zip, or ``None`` when ``data`` is not a readable zip."""
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                members = [(info, archive.read(info)) for info in archive.infolist()]
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError):
            return None
        dropped = frozenset(info.filename for info, content in members if _is_image(info, content))
        references = dropped | {name.rsplit("/", 1)[-1] for name in dropped}
        changed = bool(dropped)
        kept: list[tuple[zipfile.ZipInfo, bytes]] = []
        for info, content in members:
            if info.filename in dropped:
                continue
            new = self.member(info.filename, content, references)
            changed = changed or new != content
            kept.append((info, new))
        if not changed:
            return data
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            for info, content in kept:
                copy = zipfile.ZipInfo(info.filename, date_time=info.date_time)
                copy.compress_type = info.compress_type
                copy.external_attr = info.external_attr
                copy.comment = info.comment
                archive.writestr(copy, content)
        return out.getvalue()

    def member(self, name: str, content: bytes, references: frozenset[str]) -> bytes:
        """One zip member scrubbed; binary members as they were."""
        if os.path.splitext(name)[1].lower() in JSON_LINES_SUFFIXES:
            try:
                text = content.decode("utf-8")
            except UnicodeDecodeError:
                return content
            return self.json_lines(text, references).encode("utf-8")
        new = self.text_bytes(name, content)
        return content if new is None else new


_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")
_SVG_START = re.compile(
    rb"\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*(?:<!DOCTYPE[^>]*>\s*)?<svg\b", re.I | re.S
)


def _is_image(info: zipfile.ZipInfo, content: bytes) -> bool:
    """Whether a zip member is an image, by its name or by its first bytes."""
    if os.path.splitext(info.filename)[1].lower() in IMAGE_SUFFIXES:
        return True
    if content.startswith(_IMAGE_MAGIC):
        return True
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return True
    return _SVG_START.match(content[:4096]) is not None


def _drop_references(value: Any, references: frozenset[str]) -> bool:
    """Remove, in place, every string equal to one of ``references`` (dict entries and list
    items); whether anything was removed."""
    removed = False
    if isinstance(value, dict):
        for key in list(value):
            item = value[key]
            if isinstance(item, str) and item in references:
                del value[key]
                removed = True
            elif _drop_references(item, references):
                removed = True
    elif isinstance(value, list):
        kept = [item for item in value if not (isinstance(item, str) and item in references)]
        removed = len(kept) != len(value)
        value[:] = kept
        for item in value:
            removed = _drop_references(item, references) or removed
    return removed


def _masked_cookie(cookie: Any) -> Any:
    if isinstance(cookie, dict) and "value" in cookie:
        return {**cookie, "value": MASK}
    return cookie


def _replace(path: Path, content: bytes, before: os.stat_result) -> bool:
    """Write ``content`` over ``path`` atomically, unless the file changed since ``before``."""
    handle, temporary = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.chmod(temporary, stat.S_IMODE(before.st_mode))
        now = os.lstat(path)
        if (now.st_ino, now.st_size, now.st_mtime_ns) != (
            before.st_ino,
            before.st_size,
            before.st_mtime_ns,
        ):
            os.unlink(temporary)
            return False  # another process is writing it: its next scrub will see it whole
        os.replace(temporary, path)
    except FileNotFoundError:
        if os.path.exists(temporary):
            os.unlink(temporary)
        return False
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return True
