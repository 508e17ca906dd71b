"""Throwaway back-ends for the bundled server: a PostgreSQL server and a Redis server.

Each is a context manager that starts the service on a free port of ``127.0.0.1``, with its
data in a temporary folder, yields its URL and, on leaving, stops it and removes the folder.
They use the machine's own binaries (Debian's ``postgresql`` and ``redis-server`` packages);
when those are missing, :func:`postgresql_missing` and :func:`redis_missing` say so in one
line and the context managers raise :class:`ServiceUnavailable` with that line.

:func:`temporary_database` makes a database of its own on a PostgreSQL server for one bundled
server (and drops it afterwards), so that servers sharing one PostgreSQL share no rows.

``python -m harness.services postgresql redis`` starts the services named, prints a
``NAME=VALUE`` line per environment variable that points the bundled servers at them
(:data:`DATABASE_VARIABLE`, :data:`RATELIMIT_STORAGE_VARIABLE`), then ``ready``, and stops them
on SIGTERM, SIGINT or (``--stop-on-eof``) the end of its standard input. ``./tasks test``
runs it so.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType

from harness.errors import HarnessError

DATABASE_VARIABLE = "HARNESS_SERVER_DATABASE"
"""A PostgreSQL server's SQLAlchemy URL; each bundled server gets a database of its own on it."""
RATELIMIT_STORAGE_VARIABLE = "HARNESS_SERVER_RATELIMIT_STORAGE"
"""A ``redis://`` URL; each bundled server keeps its rate-limit counters there under a key
prefix of its own."""
POSTGRESQL_BIN_GLOB = "/usr/lib/postgresql/*/bin"
"""Where Debian's ``postgresql`` package puts ``initdb`` and ``postgres``, one folder per major
version."""
POSTGRESQL_USER = "postgres"
"""The system user PostgreSQL runs as when the harness runs as root (PostgreSQL refuses root);
Debian's package creates it."""
START_TIMEOUT = 60.0


class ServiceUnavailable(HarnessError):
    """A service cannot be started: its binaries are missing or it failed; one line says which."""


def postgresql_bin() -> Path | None:
    """The newest ``/usr/lib/postgresql/N/bin`` holding ``initdb`` and ``postgres``, or None."""
    candidates = [
        path
        for path in Path("/").glob(POSTGRESQL_BIN_GLOB.lstrip("/"))
        if (path / "initdb").is_file() and (path / "postgres").is_file()
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda path: _version_key(path.parent.name))


def postgresql_missing() -> str | None:
    """Why a PostgreSQL server cannot be started here (one line), or None when it can."""
    if postgresql_bin() is None:
        return (
            f"PostgreSQL is not installed (no initdb and postgres under {POSTGRESQL_BIN_GLOB});"
            " apt-get install postgresql"
        )
    if os.geteuid() == 0 and _postgres_user() is None:
        return (
            f"PostgreSQL refuses to run as root and there is no {POSTGRESQL_USER!r} user to run"
            " it as; apt-get install postgresql creates one"
        )
    return None


def redis_missing() -> str | None:
    """Why a Redis server cannot be started here (one line), or None when it can."""
    if shutil.which("redis-server") is None:
        return "Redis is not installed (no redis-server on PATH); apt-get install redis-server"
    return None


@contextlib.contextmanager
def postgresql_server() -> Iterator[str]:
    """A fresh PostgreSQL cluster on ``127.0.0.1``, trusting local connections, without
    durability (``fsync=off``: its data is thrown away anyway).

    :return: (yields) the server's SQLAlchemy URL,
        ``postgresql+psycopg://postgres@127.0.0.1:PORT/postgres``.
    :raises ServiceUnavailable: the binaries are missing, or the server does not start.
    """
    reason = postgresql_missing()
    if reason is not None:
        raise ServiceUnavailable(reason)
    bin_dir = postgresql_bin()
    assert bin_dir is not None
    user = _postgres_user() if os.geteuid() == 0 else None
    with _scratch_dir("harness-postgresql-", user) as folder:
        data = folder / "data"
        log_path = folder / "postgresql.log"
        # Root's supplementary groups are dropped too (extra_groups=[]).
        as_user = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if user else {}
        env = {**os.environ, "LC_ALL": "C", **({"HOME": str(folder)} if user else {})}
        initdb = subprocess.run(
            [
                str(bin_dir / "initdb"),
                f"--pgdata={data}",
                f"--username={POSTGRESQL_USER}",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-sync",
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=folder,
            **as_user,
        )
        if initdb.returncode != 0:
            raise ServiceUnavailable(f"initdb failed: {_last_line(initdb.stderr)}")
        port = _free_port()
        with log_path.open("w") as log:
            process = subprocess.Popen(
                [
                    str(bin_dir / "postgres"),
                    "-D",
                    str(data),
                    "-p",
                    str(port),
                    "-k",
                    str(folder),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "full_page_writes=off",
                    "-c",
                    "max_connections=200",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=folder,
                **as_user,
            )
        try:
            _wait_until(
                lambda: _pg_isready(bin_dir, port),
                process,
                f"PostgreSQL on port {port}",
                log_path,
            )
            yield f"postgresql+psycopg://{POSTGRESQL_USER}@127.0.0.1:{port}/postgres"
        finally:
            # SIGINT is PostgreSQL's fast shutdown: clients are disconnected, not waited for.
            _stop(process, signal.SIGINT)


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A fresh Redis server on ``127.0.0.1`` that keeps nothing on disk.

    :return: (yields) its URL, ``redis://127.0.0.1:PORT``.
    :raises ServiceUnavailable: redis-server is missing, or it does not start.
    """
    reason = redis_missing()
    if reason is not None:
        raise ServiceUnavailable(reason)
    with _scratch_dir("harness-redis-", None) as folder:
        port = _free_port()
        log_path = folder / "redis.log"
        with log_path.open("w") as log:
            process = subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(folder),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=folder,
            )
        try:
            _wait_until(lambda: _redis_pings(port), process, f"Redis on port {port}", log_path)
            yield f"redis://127.0.0.1:{port}"
        finally:
            _stop(process, signal.SIGTERM)


@contextlib.contextmanager
def temporary_database(server_url: str, prefix: str = "harness") -> Iterator[str]:
    """A new, empty database on the PostgreSQL server at ``server_url`` (a SQLAlchemy
    ``postgresql+psycopg://`` URL of any database on it), dropped on leaving with whatever
    connections are still open to it.

    :return: (yields) the new database's SQLAlchemy URL (``server_url`` with another database).
    :raises ServiceUnavailable: the URL is not PostgreSQL's, psycopg is not installed, or the
        server refuses.
    """
    from sqlalchemy.engine import URL, make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url: URL = make_url(server_url)
    except ArgumentError:
        raise ServiceUnavailable(f"cannot parse the database URL {server_url!r}") from None
    if url.get_backend_name() != "postgresql":
        raise ServiceUnavailable(
            f"{DATABASE_VARIABLE} must name a PostgreSQL server"
            f" (postgresql+psycopg://USER@HOST:PORT/DB), not {url.get_backend_name()!r}"
        )
    try:
        import psycopg
        from psycopg import sql
    except ImportError:
        raise ServiceUnavailable(
            "psycopg is not installed: pip install -e '.[postgresql]'"
        ) from None
    name = f"{prefix}_{secrets.token_hex(6)}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=10) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as error:
        raise ServiceUnavailable(
            f"cannot create a database on {url.render_as_string()}: {_last_line(str(error))}"
        ) from None
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with (
            contextlib.suppress(psycopg.Error),
            psycopg.connect(admin, autocommit=True, connect_timeout=10) as connection,
        ):
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".") if part.isdigit())


def _postgres_user() -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(POSTGRESQL_USER)
    except KeyError:
        return None


@contextlib.contextmanager
def _scratch_dir(prefix: str, owner: pwd.struct_passwd | None) -> Iterator[Path]:
    """A temporary folder, owned by ``owner`` when given; removed on leaving."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        if owner is not None:
            os.chown(folder, owner.pw_uid, owner.pw_gid)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _free_port() -> int:
    """A TCP port free on 127.0.0.1 at the time of asking."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg_isready(bin_dir: Path, port: int) -> bool:
    command = [str(bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)]
    return subprocess.run(command, capture_output=True).returncode == 0


def _redis_pings(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _wait_until(
    ready: Callable[[], bool], process: subprocess.Popen, what: str, log_path: Path
) -> None:
    """Poll ``ready()`` until it is true; ServiceUnavailable when the process exits first or
    :data:`START_TIMEOUT` passes (the process is then stopped)."""
    deadline = time.monotonic() + START_TIMEOUT
    while not ready():
        if process.poll() is not None:
            raise ServiceUnavailable(f"{what} exited: {_last_line(log_path.read_text())}")
        if time.monotonic() > deadline:
            _stop(process, signal.SIGTERM)
            raise ServiceUnavailable(
                f"{what} did not start within {START_TIMEOUT:.0f} s:"
                f" {_last_line(log_path.read_text())}"
            )
        time.sleep(0.1)


def _stop(process: subprocess.Popen, sig: int) -> None:
    """Signal the process and wait for it; kill it after 20 s."""
    if process.poll() is None:
        process.send_signal(sig)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


SERVICES = {"postgresql": postgresql_server, "redis": redis_server}
VARIABLES = {"postgresql": DATABASE_VARIABLE, "redis": RATELIMIT_STORAGE_VARIABLE}


def main(argv: Sequence[str] | None = None) -> int:
    """Start the services named, print their variables and ``ready``, and keep them until
    SIGTERM, SIGINT or, with ``--stop-on-eof``, the end of standard input; the exit status is 2
    when one cannot start (its reason on stderr, one line)."""
    parser = argparse.ArgumentParser(
        prog="python -m harness.services",
        description="Start throwaway back-ends for the bundled server; print their variables.",
    )
    parser.add_argument("services", nargs="+", choices=sorted(SERVICES))
    parser.add_argument(
        "--stop-on-eof",
        action="store_true",
        help="also stop when standard input ends (a caller holding a pipe to it has gone)",
    )
    args = parser.parse_args(argv)
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        with contextlib.ExitStack() as services:
            for name in dict.fromkeys(args.services):
                url = services.enter_context(SERVICES[name]())
                print(f"{VARIABLES[name]}={url}", flush=True)
            print("ready", flush=True)
            if args.stop_on_eof:
                threading.Thread(target=_wait_for_eof, args=(stop,), daemon=True).start()
            while not stop.wait(1):
                pass
    except ServiceUnavailable as error:
        print(f"harness.services: {error}", file=sys.stderr, flush=True)
        return 2
    return 0


def _wait_for_eof(stop: threading.Event) -> None:
    """Set ``stop`` once standard input ends (the caller has gone)."""
    # The file descriptor, not sys.stdin: a daemon thread blocked in a buffered reader would
    # hold its lock while the interpreter shuts down.
    with contextlib.suppress(OSError):
        while os.read(0, 4096):
            pass
    stop.set()


if __name__ == "__main__":
    sys.exit(main())
