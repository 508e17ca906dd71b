"""Secrets and credentials leave no trace in the files a run writes, traces included."""

from __future__ import annotations

import base64
import html
import http.server
import json
import os
import secrets
import shutil
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from playwright.sync_api import Browser

from harness.redaction import Secret
from harness.report.scrub import MASK, scrub_file, scrub_text, scrub_tree

# A value every encoding changes: spaces, slashes, quotes, markup, non-ASCII.
PLANTED = "pä ss/wörd+&<'\"=" + "7Kq9ZtRw"

ENCODINGS: dict[str, Callable[[str], str]] = {
    "as-is": lambda value: value,
    "percent-encoded": lambda value: quote(value, safe=""),
    "percent-encoded-keeping-slashes": quote,
    "form-encoded": quote_plus,
    "html-escaped": html.escape,
    "html-escaped-text": lambda value: html.escape(value, quote=False),
    "jinja-escaped": lambda value: (
        html.escape(value).replace("&#x27;", "&#39;").replace("&quot;", "&#34;")
    ),
    "json-escaped": lambda value: json.dumps(value)[1:-1],
    "json-escaped-unicode": lambda value: json.dumps(value, ensure_ascii=False)[1:-1],
    "json-escaped-form-encoded": lambda value: json.dumps(quote_plus(value))[1:-1],
    "json-escaped-html-escaped": lambda value: json.dumps(html.escape(value))[1:-1],
    "base64": lambda value: base64.b64encode(value.encode()).decode(),
    "base64-url-safe": lambda value: base64.urlsafe_b64encode(value.encode()).decode(),
}


def encodings_of(value: str) -> set[str]:
    return {encode(value) for encode in ENCODINGS.values()}


# --- scrub_text: values ------------------------------------------------------------------


@pytest.mark.parametrize("encode", ENCODINGS.values(), ids=ENCODINGS.keys())
def test_a_secret_is_masked_in_each_form_and_the_text_around_it_kept(encode) -> None:
    text = f"before {encode(PLANTED)} after"
    assert scrub_text(text, [PLANTED]) == f"before {MASK} after"


@pytest.mark.parametrize("offset", [0, 1, 2])
def test_a_secret_inside_a_longer_base64_text_is_masked(offset: int) -> None:
    raw = PLANTED.encode()
    encoded = base64.b64encode(b"x" * offset + raw + b"tail").decode()
    before, after = scrub_text(encoded, [PLANTED]).split(MASK)
    # what is left encodes the prefix and "tail", and at most a few bits of the secret
    assert encoded.startswith(before)
    assert encoded.endswith(after)
    assert len(before) <= 3
    assert len(after) <= 8


def test_the_longest_matching_form_is_replaced_whole() -> None:
    text = "one abcdef-ghijkl two"
    assert scrub_text(text, ["abcdef", "abcdef-ghijkl"]) == f"one {MASK} two"


def test_a_secret_wrapped_in_secret_is_masked_like_a_plain_one() -> None:
    assert scrub_text(f"pw={PLANTED}", [Secret(PLANTED)]) == f"pw={MASK}"


def test_secrets_shorter_than_six_characters_are_not_replaced() -> None:
    assert scrub_text("the cat sat", ["cat"]) == "the cat sat"


def test_scrubbing_scrubbed_text_changes_nothing() -> None:
    once = scrub_text(f"Cookie: a=b\n{PLANTED} pypi-{'A' * 30}", [PLANTED])
    assert scrub_text(once, [PLANTED]) == once


def test_a_secret_in_a_json_document_is_masked_and_the_document_still_parses() -> None:
    document = json.dumps({"message": f"typed {PLANTED}", "list": [PLANTED]})
    scrubbed = scrub_text(document, [PLANTED])
    assert json.loads(scrubbed) == {"message": f"typed {MASK}", "list": [MASK]}


# --- scrub_text: patterns ------------------------------------------------------------------


def test_header_lines_lose_their_values_and_other_lines_stay() -> None:
    text = (
        "GET / HTTP/1.1\n"
        "Cookie: session=abc123def\n"
        "Set-Cookie: session=abc123def; Path=/; HttpOnly\n"
        "Authorization: Bearer eyJhbGciOi.x.y\n"
        "proxy-authorization: Basic dXNlcjpwYXNz\n"
        "Accept: text/html\n"
    )
    assert scrub_text(text, []) == (
        "GET / HTTP/1.1\n"
        f"Cookie: {MASK}\n"
        f"Set-Cookie: {MASK}\n"
        f"Authorization: {MASK}\n"
        f"proxy-authorization: {MASK}\n"
        "Accept: text/html\n"
    )


def test_a_header_line_inside_a_json_string_is_masked_up_to_the_end_of_the_string() -> None:
    line = json.dumps({"message": "sent Cookie: session=abc123", "next": "kept"})
    assert json.loads(scrub_text(line, [])) == {"message": f"sent Cookie: {MASK}", "next": "kept"}


def test_playwright_header_entries_lose_their_values() -> None:
    headers = [
        {"name": "Cookie", "value": "session=abc123"},
        {"name": "set-cookie", "value": 'session=abc123; Path="/"'},
        {"value": "Bearer tok123", "name": "Authorization"},
        {"name": "Accept", "value": "text/html"},
    ]
    scrubbed = json.loads(scrub_text(json.dumps({"headers": headers}), []))
    assert scrubbed["headers"] == [
        {"name": "Cookie", "value": MASK},
        {"name": "set-cookie", "value": MASK},
        {"value": MASK, "name": "Authorization"},
        {"name": "Accept", "value": "text/html"},
    ]


def test_every_cookie_in_a_cookie_list_loses_its_value() -> None:
    har = {"cookies": [{"name": "session", "value": "abc123", "path": "/"}, {"name": "x"}]}
    scrubbed = json.loads(scrub_text(json.dumps(har, indent=2), []))
    assert scrubbed == {"cookies": [{"name": "session", "value": MASK, "path": "/"}, {"name": "x"}]}


def test_header_dictionaries_lose_their_values_in_json_and_in_python_reprs() -> None:
    headers = {"Authorization": "token abc123", "User-Agent": "harness"}
    assert json.loads(scrub_text(json.dumps(headers), [])) == {
        "Authorization": MASK,
        "User-Agent": "harness",
    }
    assert scrub_text(repr(headers), []) == repr({"Authorization": MASK, "User-Agent": "harness"})


def test_a_cookie_jar_repr_loses_the_cookie_values() -> None:
    text = "<RequestsCookieJar[<Cookie session=abc123 for localhost.local/>]>"
    assert (
        scrub_text(text, []) == f"<RequestsCookieJar[<Cookie session={MASK} for localhost.local/>]>"
    )


def test_pypi_api_tokens_are_masked_whatever_their_value() -> None:
    token = "pypi-AgEIcHlwaS5vcmcCJGY2ZjE5NjhhLTQ2YmQtNDlj_-ZGYtYmVkOS1hOWMxYzk0N2Y3MzQ"
    assert scrub_text(f"password = {token}\n", []) == f"password = pypi-{MASK}\n"


def test_a_short_pypi_word_is_not_taken_for_a_token() -> None:
    assert scrub_text("the pypi-2fa harness", []) == "the pypi-2fa harness"


@pytest.mark.parametrize(
    "uri",
    [
        "otpauth://totp/Index:alice?secret=JBSWY3DPEHPK3PXP&issuer=Index",
        "otpauth://totp/Index:alice?issuer=Index&amp;secret=JBSWY3DPEHPK3PXP&amp;digits=6",
        "otpauth:\\/\\/totp\\/Index:alice?secret=JBSWY3DPEHPK3PXP",
        "https://qr.example/?data=otpauth%3A%2F%2Ftotp%2FIndex%3Aalice%3Fsecret%3DJBSWY3DPEHPK3PXP",
    ],
    ids=["plain", "html-escaped", "json-escaped", "percent-encoded"],
)
def test_the_secret_of_an_otpauth_uri_is_masked(uri: str) -> None:
    scrubbed = scrub_text(f'<img aria-label="{uri}">', [])
    assert "JBSWY3DPEHPK3PXP" not in scrubbed
    assert MASK in scrubbed
    assert "otpauth" in scrubbed


@pytest.mark.parametrize(
    "uri",
    [
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAA+/=",
        "data:image/svg+xml;charset=utf-8,%3Csvg%20xmlns%3D%22http%3A%2F%2Fwww.w3.org%22%3E",
    ],
    ids=["base64-png", "percent-encoded-svg"],
)
def test_the_payload_of_a_data_image_uri_is_masked(uri: str) -> None:
    media_type = uri.split(",", 1)[0]
    assert scrub_text(f'<img src="{uri}" alt="qr">', []) == (
        f'<img src="{media_type},{MASK}" alt="qr">'
    )


# --- scrub_file ----------------------------------------------------------------------------


def test_a_text_file_with_a_secret_is_rewritten_and_reported_changed(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    log.write_text(f"login with {PLANTED}\n", encoding="utf-8")
    assert scrub_file(log, [PLANTED]) is True
    assert log.read_text(encoding="utf-8") == f"login with {MASK}\n"


def test_a_file_without_secrets_is_reported_unchanged(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    log.write_text("nothing to hide\n")
    assert scrub_file(log, [PLANTED]) is False


def test_a_file_that_is_neither_utf8_nor_zip_is_left_alone(tmp_path: Path) -> None:
    blob = tmp_path / "blob.bin"
    content = b"\xff\xfe" + PLANTED.encode("utf-16-le") + b"\x80"
    blob.write_bytes(content)
    assert scrub_file(blob, [PLANTED]) is False
    assert blob.read_bytes() == content


def test_a_file_that_vanished_is_skipped(tmp_path: Path) -> None:
    assert scrub_file(tmp_path / "gone.json", [PLANTED]) is False


def test_a_zip_still_being_written_is_left_alone(tmp_path: Path) -> None:
    whole = tmp_path / "whole.zip"
    with zipfile.ZipFile(whole, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("trace.trace", json.dumps({"message": PLANTED}) + "\n")
    partial = tmp_path / "trace.zip"
    partial.write_bytes(whole.read_bytes()[:-30])
    assert scrub_file(partial, [PLANTED]) is False
    assert partial.read_bytes() == whole.read_bytes()[:-30]


def test_a_json_file_still_parses_after_scrubbing(tmp_path: Path) -> None:
    result = tmp_path / "abc-result.json"
    result.write_text(json.dumps({"parameters": [{"name": "password", "value": PLANTED}]}))
    assert scrub_file(result, [PLANTED]) is True
    assert json.loads(result.read_text()) == {"parameters": [{"name": "password", "value": MASK}]}


def test_a_zip_loses_its_images_and_the_events_that_point_at_them(tmp_path: Path) -> None:
    trace = tmp_path / "trace.zip"
    frame = "screencast/page@1-1.jpeg"
    events = [
        {"type": "screencast-frame", "pageId": "page@1", "file": frame},
        {"type": "log", "message": f"fill({PLANTED})"},
    ]
    network = {"snapshot": {"response": {"content": {"_file": "resources/a1.png", "size": 3}}}}
    with zipfile.ZipFile(trace, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("trace.trace", "".join(json.dumps(event) + "\n" for event in events))
        archive.writestr("trace.network", json.dumps(network) + "\n")
        archive.writestr(frame, b"\xff\xd8\xff\xe0 jpeg")
        archive.writestr("resources/a1.png", b"\x89PNG\r\n\x1a\n png")
    assert scrub_file(trace, [PLANTED]) is True
    with zipfile.ZipFile(trace) as archive:
        assert archive.namelist() == ["trace.trace", "trace.network"]
        assert json.loads(archive.read("trace.trace")) == {
            "type": "log",
            "message": f"fill({MASK})",
        }
        assert json.loads(archive.read("trace.network")) == {
            "snapshot": {"response": {"content": {"size": 3}}}
        }


# --- scrub_tree ----------------------------------------------------------------------------


def test_the_tree_scrub_counts_the_files_it_changed(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_text(f"a {PLANTED}")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.xml").write_text(f"<failure>{html.escape(PLANTED)}</failure>")
    (tmp_path / "sub" / "c.txt").write_text("clean")
    assert scrub_tree(tmp_path, [PLANTED]) == 2
    assert (tmp_path / "sub" / "b.xml").read_text() == f"<failure>{MASK}</failure>"


def test_the_tree_scrub_leaves_unchanged_files_untouched(tmp_path: Path) -> None:
    clean = tmp_path / "clean.txt"
    clean.write_text("clean")
    os.utime(clean, ns=(1_000_000_000, 1_000_000_000))
    inode = clean.stat().st_ino
    scrub_tree(tmp_path, [PLANTED])
    assert clean.stat().st_mtime_ns == 1_000_000_000
    assert clean.stat().st_ino == inode


def test_the_tree_scrub_does_not_follow_symlinks(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.log").write_text(PLANTED)
    tree = tmp_path / "reports"
    tree.mkdir()
    (tree / "latest").symlink_to(outside, target_is_directory=True)
    (tree / "linked.log").symlink_to(outside / "secret.log")
    assert scrub_tree(tree, [PLANTED]) == 0
    assert (outside / "secret.log").read_text() == PLANTED
    assert (tree / "linked.log").is_symlink()


def test_the_tree_scrub_leaves_png_files_alone(tmp_path: Path) -> None:
    screenshot = tmp_path / "screenshot.png"
    screenshot.write_bytes(b"\x89PNG\r\n\x1a\n" + PLANTED.encode())
    assert scrub_tree(tmp_path, [PLANTED]) == 0
    assert PLANTED.encode() in screenshot.read_bytes()


def test_the_tree_scrub_uses_the_secrets_this_process_made_by_default(tmp_path: Path) -> None:
    made = Secret("made-" + secrets.token_hex(8))
    (tmp_path / "a.log").write_text(f"x {made} y")
    assert scrub_tree(tmp_path) == 1
    assert (tmp_path / "a.log").read_text() == f"x {MASK} y"


# --- a real Playwright trace -----------------------------------------------------------------

QR_PNG = base64.b64encode(
    bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")
).decode()

LOGIN_FORM = b"""<!doctype html><html><body>
<form method="post" action="/login">
  <input name="username" id="username"><input type="password" name="password" id="password">
  <button type="submit">Log in</button>
</form></body></html>"""


@dataclass(frozen=True)
class RecordedTrace:
    zip: Path
    password: str
    shown_secret: str
    session_cookie: str
    image_payload: str


def serve_login(shown_secret: str, session_cookie: str) -> http.server.ThreadingHTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.answer(LOGIN_FORM)

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            page = (
                f'<!doctype html><html><body><p id="codes">Your recovery code: {shown_secret}</p>'
                f'<img alt="qr" src="data:image/png;base64,{QR_PNG}"><a href="/">home</a>'
                "</body></html>"
            )
            self.answer(page.encode(), cookie=f"session={session_cookie}; Path=/; HttpOnly")

        def answer(self, body: bytes, cookie: str | None = None) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            if cookie:
                self.send_header("Set-Cookie", cookie)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("localhost", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def recorded_trace(
    tmp_path_factory: pytest.TempPathFactory, browser: Browser
) -> Iterator[RecordedTrace]:
    """A trace of logging in to a page that shows a secret and sets a session cookie."""
    password = Secret("pw d/+&" + secrets.token_urlsafe(12))
    shown_secret = Secret(secrets.token_hex(10))
    session_cookie = secrets.token_hex(16)
    server = serve_login(shown_secret, session_cookie)
    url = f"http://localhost:{server.server_address[1]}/"
    path = tmp_path_factory.mktemp("trace") / "trace.zip"
    # pytest-playwright's browser: a second Playwright in one process is refused.
    context = browser.new_context()
    try:
        context.tracing.start(screenshots=True, snapshots=True, sources=True)
        page = context.new_page()
        page.goto(url)
        page.fill("#username", "alice")
        page.fill("#password", password)
        page.click("button[type=submit]")
        page.wait_for_selector("#codes")
        page.goto(url)  # sends the session cookie back
        context.tracing.stop(path=path)
    finally:
        context.close()
        server.shutdown()
    yield RecordedTrace(path, password, shown_secret, session_cookie, QR_PNG)


@pytest.fixture
def scrubbed_trace(recorded_trace: RecordedTrace, tmp_path: Path) -> Path:
    copy = tmp_path / "trace.zip"
    shutil.copyfile(recorded_trace.zip, copy)
    assert scrub_file(copy, [recorded_trace.password, recorded_trace.shown_secret])
    return copy


def members(trace: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(trace) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def planted_values(trace: RecordedTrace) -> dict[str, str]:
    return {
        "password": trace.password,
        "shown secret": trace.shown_secret,
        "session cookie": trace.session_cookie,
        "image payload": trace.image_payload,
    }


def test_the_raw_trace_holds_the_password_the_shown_secret_the_cookie_and_the_image(
    recorded_trace: RecordedTrace,
) -> None:
    content = b"\n".join(members(recorded_trace.zip).values())
    for name, value in planted_values(recorded_trace).items():
        assert value.encode() in content, name
    assert quote_plus(recorded_trace.password).encode() in content  # the form body
    assert any(name.endswith(".jpeg") for name in members(recorded_trace.zip))


def test_a_scrubbed_trace_holds_none_of_them_in_any_encoding(
    recorded_trace: RecordedTrace, scrubbed_trace: Path
) -> None:
    for member, content in members(scrubbed_trace).items():
        text = content.decode("utf-8", errors="replace")
        for name, value in planted_values(recorded_trace).items():
            for form in encodings_of(value):
                assert form not in text, f"{name} ({form!r}) in {member}"


def test_a_scrubbed_trace_has_no_image_member(scrubbed_trace: Path) -> None:
    images = [name for name in members(scrubbed_trace) if name.endswith((".jpeg", ".png"))]
    assert images == []


def test_a_scrubbed_trace_keeps_every_other_member(
    recorded_trace: RecordedTrace, scrubbed_trace: Path
) -> None:
    raw = [name for name in members(recorded_trace.zip) if not name.endswith(".jpeg")]
    assert list(members(scrubbed_trace)) == raw


def test_every_event_line_of_a_scrubbed_trace_is_json(scrubbed_trace: Path) -> None:
    for member, content in members(scrubbed_trace).items():
        if member.endswith((".trace", ".network")):
            events = [json.loads(line) for line in content.decode().splitlines() if line]
            assert events, member
            assert all(event["type"] != "screencast-frame" for event in events)
