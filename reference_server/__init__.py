"""A small, Warehouse-compatible package index server for the harness to test against.

It speaks the login and two-factor contract of ``docs/pages.md`` (Warehouse's routes, field
names and element ids) and is meant to be correct on every check in the security reviewers'
list, so that a failing scenario against it points at the harness, not at the server.
"""

from reference_server.app import create_app
from reference_server.config import ServerConfig

__all__ = ["ServerConfig", "create_app"]
