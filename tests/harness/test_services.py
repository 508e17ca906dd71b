"""Throwaway PostgreSQL and Redis (``harness.services``): each starts on a local port, takes
connections, and is gone (process and folder) once left; a missing binary is one line; the
bundled server uses them when the environment names them, a database and key prefix of its own.

The tests that need a service skip, saying why, where its binaries are missing; ``./tasks
test`` installs both, so in CI they run.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from harness import services
from harness.accounts import AccountFactory
from harness.services import (
    DATABASE_VARIABLE,
    RATELIMIT_STORAGE_VARIABLE,
    ServiceUnavailable,
    postgresql_missing,
    postgresql_server,
    redis_missing,
    redis_server,
    temporary_database,
)
from harness.targets import BundledServer, Profile, ServerBackends

PROJECT = Path(__file__).resolve().parents[2]


def refuses_connections(url: str) -> bool:
    """Whether nothing listens any more at ``url``'s host and port."""
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=2).close()
    except OSError:
        return True
    return False


def databases(server_url: str) -> set[str]:
    """The names of the databases on the PostgreSQL server at ``server_url``."""
    import psycopg

    with psycopg.connect(server_url.replace("+psycopg", ""), autocommit=True) as connection:
        return {row[0] for row in connection.execute("SELECT datname FROM pg_database")}


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    reason = redis_missing()
    if reason is not None:
        pytest.skip(reason)
    pytest.importorskip("redis", reason="redis-py is not installed: pip install -e '.[redis]'")
    with redis_server() as url:
        yield url


class TestPostgresql:
    def test_takes_connections_on_localhost_and_is_gone_once_left(self) -> None:
        reason = postgresql_missing()
        if reason is not None:
            pytest.skip(reason)
        psycopg = pytest.importorskip("psycopg")
        with postgresql_server() as url:
            assert url.startswith("postgresql+psycopg://postgres@127.0.0.1:")
            with psycopg.connect(url.replace("+psycopg", "")) as connection:
                assert connection.execute("SELECT 6 * 7").fetchone() == (42,)
                folder = Path(
                    connection.execute("SHOW data_directory").fetchone()[0]  # type: ignore[index]
                ).parent
            assert folder.is_dir()
        assert refuses_connections(url)
        assert not folder.exists()

    def test_a_temporary_database_is_empty_and_dropped_once_left(self, postgresql: str) -> None:
        from sqlalchemy import create_engine, inspect

        from reference_server.db import make_engine

        with temporary_database(postgresql, prefix="probe") as url:
            name = urlsplit(url).path.lstrip("/")
            assert name.startswith("probe_")
            assert name in databases(postgresql)
            empty = create_engine(url)
            assert inspect(empty).get_table_names() == []
            empty.dispose()
            engine = make_engine(url)  # the reference server's schema fits in it
            assert "users" in inspect(engine).get_table_names()
            # A connection still open does not keep the database from being dropped.
            engine.connect()
        assert name not in databases(postgresql)

    def test_a_temporary_database_needs_a_postgresql_url(self) -> None:
        with (
            pytest.raises(ServiceUnavailable, match="must name a PostgreSQL server"),
            temporary_database("sqlite:///x.sqlite3"),
        ):
            pass

    def test_missing_binaries_are_one_line_naming_the_package(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.setattr(services, "POSTGRESQL_BIN_GLOB", f"{tmp_path}/*/bin")
        reason = postgresql_missing()
        assert reason is not None
        assert "\n" not in reason
        assert "apt-get install postgresql" in reason
        with pytest.raises(ServiceUnavailable) as raised, postgresql_server():
            pass
        assert str(raised.value) == reason


class TestRedis:
    def test_takes_connections_on_localhost_and_is_gone_once_left(self) -> None:
        reason = redis_missing()
        if reason is not None:
            pytest.skip(reason)
        redis = pytest.importorskip("redis")
        with redis_server() as url:
            assert url.startswith("redis://127.0.0.1:")
            client = redis.Redis.from_url(url)
            client.set("probe", "42")
            assert client.get("probe") == b"42"
            assert client.config_get("save") == {"save": ""}
            client.close()
        assert refuses_connections(url)

    def test_missing_binary_is_one_line_naming_the_package(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.setenv("PATH", str(tmp_path))
        reason = redis_missing()
        assert reason is not None
        assert "\n" not in reason
        assert "apt-get install redis-server" in reason
        with pytest.raises(ServiceUnavailable) as raised, redis_server():
            pass
        assert str(raised.value) == reason


def test_the_command_prints_the_variables_and_stops_when_its_input_ends() -> None:
    reason = redis_missing()
    if reason is not None:
        pytest.skip(reason)
    process = subprocess.Popen(
        [sys.executable, "-m", "harness.services", "redis", "--stop-on-eof"],
        cwd=PROJECT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        first, second = process.stdout.readline(), process.stdout.readline()
        name, _, url = first.strip().partition("=")
        assert name == RATELIMIT_STORAGE_VARIABLE
        assert second.strip() == "ready"
        assert not refuses_connections(url)
        process.stdin.close()
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert refuses_connections(url)


def test_the_command_says_in_one_line_when_a_service_is_missing(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "harness.services", "redis"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PATH": str(tmp_path)},
    )
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.strip().splitlines() == [
        "harness.services: Redis is not installed (no redis-server on PATH);"
        " apt-get install redis-server"
    ]


class TestBundledServerBackends:
    def test_read_from_the_environment(self) -> None:
        environ = {
            DATABASE_VARIABLE: "postgresql+psycopg://u@h:1/d",
            RATELIMIT_STORAGE_VARIABLE: "",
        }
        assert ServerBackends.from_environment(environ) == ServerBackends(
            database="postgresql+psycopg://u@h:1/d", ratelimit_storage=None
        )
        assert ServerBackends.from_environment({}) == ServerBackends()

    def test_the_server_gets_a_database_and_key_prefix_of_its_own_and_drops_the_database(
        self, postgresql: str, redis_url: str, tmp_path: Path
    ) -> None:
        import redis

        before = databases(postgresql)
        backends = ServerBackends(database=postgresql, ratelimit_storage=redis_url)
        profile = Profile.load("reference").for_bundled_server()
        with (
            BundledServer(profile, tmp_path / "a", backends=backends) as first,
            BundledServer(profile, tmp_path / "b", backends=backends) as second,
        ):
            assert first.target is not None and second.target is not None
            made = databases(postgresql) - before
            assert len(made) == 2
            assert all(name.startswith("harness_server_") for name in made)
            for target in (first.target, second.target):
                account = AccountFactory(target).create()
                client = target.client()
                assert client.login(account.username, "not the password").status == 200
                client.login(account.username, account.password)
                assert client.get("/manage/account/").status == 200
            keys = redis.Redis.from_url(redis_url).keys("*login.user*")
            prefixes = {key.decode().split(":")[0] for key in keys}
            assert len(prefixes) == 2, keys
            assert all(prefix.startswith("harness-") for prefix in prefixes)
        assert databases(postgresql) == before
