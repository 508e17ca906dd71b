"""Building a probe wheel and uploading it with twine (run for real, never mocked)."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from packaging.metadata import Metadata
from wheel.wheelfile import WheelFile

from harness.redaction import Secret
from harness.uploads import _twine_command, build_wheel, twine_upload

PASSWORD = Secret("pa ss/wörd+=&:?%7E")
PASSWORD_FORMS = {
    "as is": str(PASSWORD),
    "url-encoded": quote(PASSWORD, safe=""),
    "form-encoded": quote_plus(PASSWORD),
    "base64": base64.b64encode(PASSWORD.encode()).decode(),
    "basic auth": base64.b64encode(f"__token__:{PASSWORD}".encode("latin-1")).decode(),
    "basic auth in UTF-8": base64.b64encode(f"__token__:{PASSWORD}".encode()).decode(),
}
NOTHING_LISTENS = "http://localhost:9/legacy/"


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    return build_wheel(tmp_path / "dist", "Probe.Package_2fa", "1.0.0-rc1")


class LegacyEndpoint(ThreadingHTTPServer):
    """A stand-in upload endpoint: answers every POST with ``status`` and a body that echoes
    the credentials it got, in every form, as a careless server might."""

    status = 403
    posts: list[bytes]


class EchoingHandler(BaseHTTPRequestHandler):
    server: LegacyEndpoint

    def do_POST(self) -> None:
        self.server.posts.append(self.rfile.read(int(self.headers["Content-Length"])))
        authorization = self.headers.get("Authorization", "")
        credentials = base64.b64decode(authorization.removeprefix("Basic ")).decode("latin-1")
        password = credentials.split(":", 1)[1]
        body = (
            f"Invalid credentials: {authorization} {password} {quote(password, safe='')}"
            f" {quote_plus(password)} {base64.b64encode(password.encode()).decode()}"
        ).encode()
        self.send_response(self.server.status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[LegacyEndpoint]:
    server = LegacyEndpoint(("localhost", 0), EchoingHandler)
    server.posts = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def url_of(server: LegacyEndpoint) -> str:
    return f"http://localhost:{server.server_address[1]}/legacy/"


def test_built_wheel_passes_twine_check_strict(wheel: Path) -> None:
    check = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(wheel)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_built_wheel_is_named_with_normalised_name_and_version(wheel: Path) -> None:
    assert wheel.name == "probe_package_2fa-1.0.0rc1-py3-none-any.whl"


def test_built_wheel_metadata_names_the_project_and_version(wheel: Path) -> None:
    with WheelFile(wheel) as archive:
        text = archive.read("probe_package_2fa-1.0.0rc1.dist-info/METADATA").decode()
    metadata = Metadata.from_email(text, validate=True)
    assert (metadata.metadata_version, metadata.name, str(metadata.version)) == (
        "2.1",
        "Probe.Package_2fa",
        "1.0.0rc1",
    )
    assert metadata.summary


def test_built_wheel_records_a_matching_hash_for_every_file(wheel: Path) -> None:
    with WheelFile(wheel) as archive:  # reading checks each file against RECORD
        record = archive.read(archive.record_path).decode()
        for name in archive.namelist():
            archive.read(name)
            assert name in record


def test_invalid_project_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="invalid"):
        build_wheel(tmp_path, "probe\nVersion: 9", "1.0")


def test_upload_where_nothing_listens_fails(wheel: Path) -> None:
    result = twine_upload(NOTHING_LISTENS, "__token__", PASSWORD, [wheel], timeout=60)
    assert result.returncode != 0
    assert not result.succeeded


def test_failed_upload_output_never_shows_the_password(wheel: Path) -> None:
    result = twine_upload(NOTHING_LISTENS, "__token__", PASSWORD, [wheel], timeout=60)
    shown = [form for form, text in PASSWORD_FORMS.items() if text in result.output]
    assert shown == []


def test_upload_the_server_accepts_succeeds(wheel: Path, endpoint: LegacyEndpoint) -> None:
    endpoint.status = 200
    result = twine_upload(url_of(endpoint), "__token__", PASSWORD, [wheel], timeout=60)
    assert result.succeeded, result.output
    assert len(endpoint.posts) == 1
    assert b'name=":action"\r\n\r\nfile_upload' in endpoint.posts[0]


def test_credentials_the_server_echoes_are_masked(wheel: Path, endpoint: LegacyEndpoint) -> None:
    result = twine_upload(url_of(endpoint), "__token__", PASSWORD, [wheel], timeout=60)
    assert not result.succeeded
    assert "Invalid credentials: Basic ***" in result.output
    shown = [form for form, text in PASSWORD_FORMS.items() if text in result.output]
    assert shown == []


def test_twine_command_line_holds_no_credentials(wheel: Path) -> None:
    command, env = _twine_command(NOTHING_LISTENS, "probe-user", PASSWORD, [wheel])
    assert not [arg for arg in command if PASSWORD in arg or "probe-user" in arg]
    assert (env["TWINE_USERNAME"], env["TWINE_PASSWORD"]) == ("probe-user", PASSWORD)


def test_twine_reads_no_pypirc_keyring_or_twine_variables_of_the_user(
    wheel: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWINE_REPOSITORY_URL", "https://upload.pypi.org/legacy/")
    command, env = _twine_command(NOTHING_LISTENS, "__token__", PASSWORD, [wheel])
    assert command[command.index("--config-file") + 1] == os.devnull
    assert env["PYTHON_KEYRING_BACKEND"] == "keyring.backends.null.Keyring"
    assert env["TWINE_NON_INTERACTIVE"] == "1"
    assert "TWINE_REPOSITORY_URL" not in env
