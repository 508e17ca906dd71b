"""API tokens: random secrets shown once, kept only as a digest.

A token is ``pypi-`` and 43 URL-safe characters (256 random bits). With that much entropy a
plain SHA-256 is as good as a slow password hash, and lets an upload find its token by
digest in one indexed look-up.
"""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "pypi-"
TOKEN_USERNAME = "__token__"
MAX_DESCRIPTION = 100


def new_token() -> str:
    """A fresh token, to show the user once."""
    return PREFIX + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """What the database keeps of ``token`` (hex SHA-256)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
