"""``reference-server admin``: the administrators' commands, run as a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.reference_server.test_server_cli import ROOT

PASSWORD = "a long enough password 42"


def admin(database: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "reference_server",
            "admin",
            f"--database=sqlite:///{database}",
            *args,
        ],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def rows(database: Path, query: str) -> list[tuple]:
    with create_engine(f"sqlite:///{database}").connect() as connection:
        return [tuple(row) for row in connection.execute(text(query))]


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "db.sqlite3"
    assert admin(path, "create-user", "alice", "alice@example.com", stdin=PASSWORD).returncode == 0
    return path


def test_create_user_reads_the_password_from_stdin_and_verifies_the_address(database) -> None:
    assert rows(database, "select email, verified from user_emails") == [("alice@example.com", 1)]
    assert rows(database, "select tag from user_events") == [("account:create",)]
    (stored,) = rows(database, "select password from users")
    assert PASSWORD not in stored[0]


def test_create_project_makes_the_user_its_owner(database) -> None:
    result = admin(database, "create-project", "demo", "alice")
    assert (result.returncode, result.stdout.strip()) == (0, "created project demo owned by alice")
    assert rows(database, "select role_name from roles") == [("Owner",)]


def test_wipe_and_reset_are_recorded_as_events_by_the_admin(database) -> None:
    assert admin(database, "wipe-webauthn", "alice").returncode == 0
    assert admin(database, "reset-2fa", "alice").returncode == 0
    tags = rows(database, "select tag, additional from user_events order by id")
    assert [tag for tag, _ in tags[1:]] == ["account:webauthn:wiped", "account:two_factor:reset"]
    assert all('"by": "admin"' in additional for _, additional in tags[1:])


@pytest.mark.parametrize(
    ("args", "stdin", "error"),
    [
        (["wipe-webauthn", "bob"], "", "no user named 'bob'"),
        (["create-project", "demo", "bob"], "", "no user named 'bob'"),
        (["create-user", "alice", "alice2@example.com"], PASSWORD, "user 'alice' already exists"),
        (["create-user", "carol", "carol@example.com"], "", "give the password on standard input"),
        (
            ["create-user", "bad name!", "x@example.com"],
            PASSWORD,
            "give a valid username and email address",
        ),
    ],
)
def test_problems_give_one_line_and_status_2(database, args, stdin, error) -> None:
    result = admin(database, *args, stdin=stdin)
    assert result.returncode == 2
    assert result.stderr.strip() == f"reference-server admin: error: {error}"
