"""Fixtures the project's own tests share across folders."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.services import postgresql_missing, postgresql_server


@pytest.fixture(scope="session")
def postgresql() -> Iterator[str]:
    """A throwaway PostgreSQL server for this worker's tests, as a SQLAlchemy URL; skips, saying
    why, without one."""
    reason = postgresql_missing()
    if reason is not None:
        pytest.skip(reason)
    pytest.importorskip(
        "psycopg", reason="psycopg is not installed: pip install -e '.[postgresql]'"
    )
    with postgresql_server() as url:
        yield url
