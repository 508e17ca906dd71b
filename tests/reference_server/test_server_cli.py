"""The command line, run as ``python -m reference_server`` in a subprocess."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
OPTIONS = [
    "--host",
    "--port",
    "--database",
    "--smtp",
    "--profile",
    "--webauthn-encoding",
    "--without",
    "--ratelimit-storage",
    "--ratelimit-key-prefix",
    "--secret-key-file",
    "--init-db",
    "--login-user-limit",
    "--login-ip-limit",
    "--login-global-limit",
    "--two-factor-user-limit",
    "--two-factor-ip-limit",
    "--password-reset-limit",
    "--reauth-max-age",
    "--reauth-recovery-codes-max-age",
    "--two-factor-max-age",
    "--password-reset-max-age",
    "--email-verify-max-age",
    "--remember-device-max-age",
]


def run(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "reference_server", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_and_stop(tmp_path: Path, *args: str) -> tuple[str, str]:
    """Start the server on a free port with ``args``, stop it once listening: its first line
    of output and everything it wrote to stderr."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reference_server",
            "--port=0",
            f"--database=sqlite:///{tmp_path / 'db.sqlite3'}",
            *args,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first_line = process.stdout.readline()
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=10)
    return first_line, stderr


def test_help_lists_every_option():
    result = run("--help")
    assert result.returncode == 0
    for option in OPTIONS:
        assert option in result.stdout, option


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--database", "not a url"], "cannot parse database URL"),
        (["--database", "nosuchdialect://x"], "unknown database dialect"),
        (["--database", "sqlite:////nonexistent-dir/sub/db.sqlite3"], "cannot open or create"),
        (["--smtp", "localhost"], "--smtp must be HOST:PORT"),
        (["--login-ip-limit", "5 per fortnight"], "bad rate limit"),
        (["--ratelimit-storage", "bogus://x"], "bad rate limit storage"),
        (["--ratelimit-key-prefix", "mine"], "a rate limit key prefix needs a redis:// storage"),
        (["--without", "recovery-codes"], "--without recovery-codes needs --profile 2019-beta"),
    ],
)
def test_bad_settings_give_one_line_and_status_2(tmp_path, args, words):
    result = run("--database", f"sqlite:///{tmp_path / 'db.sqlite3'}", *args, "--port", "0")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("reference-server: error: ")
    assert words in lines[0]


def test_a_busy_port_gives_one_line_and_status_2(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("--database", f"sqlite:///{tmp_path / 'db.sqlite3'}", "--port", str(port))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"reference-server: error: port {port} on localhost is already in use; "
        "choose another --port or 0 for a free one"
    )


def test_init_db_creates_the_schema_and_exits(tmp_path):
    database = tmp_path / "db.sqlite3"
    result = run("--database", f"sqlite:///{database}", "--init-db")
    assert result.returncode == 0
    assert result.stdout == ""
    assert database.exists()


def test_the_server_prints_its_address_serves_and_stops_on_sigterm(tmp_path):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reference_server",
            "--port",
            "0",
            "--database",
            f"sqlite:///{tmp_path / 'db.sqlite3'}",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline().strip()
        assert line.startswith("reference-server listening on http://localhost:")
        response = requests.get(line.rsplit(" ", 1)[1] + "/", timeout=10)
        assert response.status_code == 200
        assert "Reference package index" in response.text
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
