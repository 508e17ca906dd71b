"""The database engine, the schema's base class and the per-request ORM session."""

from __future__ import annotations

from typing import Any

from flask import current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool


class Base(DeclarativeBase):
    """Base class of every table; ``Base.metadata.create_all`` builds the schema."""


class DatabaseError(Exception):
    """The database URL cannot be used; the message says why, in one line."""


def make_engine(url: str) -> Engine:
    """Create an engine for ``url``, connect to it and create the schema.

    Raises :class:`DatabaseError` when the URL does not parse, names an unknown dialect or
    driver, or the database cannot be reached or written: the caller reports that before
    serving anything.
    """
    # The models register their tables on Base.metadata when imported.
    from reference_server import models  # noqa: F401

    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(f"cannot parse database URL {url!r}") from exc
    kwargs: dict = {}
    if parsed.get_backend_name() == "sqlite":
        # Waitress serves from several threads; a writer waits for another instead of failing.
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        if parsed.database in (None, "", ":memory:"):
            # An in-memory database exists per connection: share one between the threads.
            kwargs["poolclass"] = StaticPool
    try:
        engine = create_engine(parsed, **kwargs)
    except NoSuchModuleError as exc:
        raise DatabaseError(f"unknown database dialect or driver in {url!r}") from exc
    except (ArgumentError, ImportError) as exc:
        raise DatabaseError(f"cannot use database URL {url!r}: {exc}") from exc
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        event.listen(engine, "connect", use_wal)
    try:
        Base.metadata.create_all(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise DatabaseError(f"cannot open or create the database {url!r}: {reason}") from exc
    return engine


def use_wal(dbapi_connection: Any, _record: object) -> None:
    """Put a SQLite file in write-ahead-log mode, synchronised to disk at checkpoints only.

    In the default rollback-journal mode every commit syncs the file (several commits per
    login, each costing CPU and a wait), and a writer shuts out every reader. With WAL, readers
    and the one writer proceed together and a commit is an append to the log. With
    ``synchronous=NORMAL`` a power cut or an OS crash may lose the last commits, never the
    file's consistency; a crash of the server process loses nothing. The journal mode is kept
    in the file (setting it again is free); ``synchronous`` is per connection.
    """
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def db() -> Session:
    """The ORM session of the current request (created on first use, closed after it)."""
    if "db" not in g:
        factory: sessionmaker[Session] = current_app.extensions["reference_server.sessionmaker"]
        g.db = factory()
    return g.db


def close_db() -> None:
    """Close the request's ORM session, rolling back whatever a view did not commit."""
    session = g.pop("db", None)
    if session is not None:
        session.close()
