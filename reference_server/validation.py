"""Warehouse's rules for usernames and email addresses, and the ``next`` redirect check."""

from __future__ import annotations

import re

from reference_server.checks import performs

USERNAME_MAX = 50
EMAIL_MAX = 254
NAME_MAX = 100
USERNAME_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._-]*[a-zA-Z0-9]", re.ASCII)
# Deliberately loose (as wtforms' Email without DNS checks): something@domain.tld, no spaces.
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

USERNAME_INVALID = (
    "The username is invalid. Usernames must be composed of letters, numbers, dots, hyphens "
    "and underscores. And must also start and finish with a letter or number. "
    "Choose a different username."
)
EMAIL_INVALID = "The email address isn't valid. Try again."


def valid_username(value: str) -> bool:
    """True for at most 50 characters matching Warehouse's username pattern."""
    return len(value) <= USERNAME_MAX and bool(USERNAME_RE.fullmatch(value))


def valid_email(value: str) -> bool:
    """True for a plausible address of at most 254 characters."""
    return 0 < len(value) <= EMAIL_MAX and bool(EMAIL_RE.fullmatch(value))


def safe_next(value: str | None) -> str | None:
    """``value`` when it is a path on this site (one leading ``/``, not ``//``), else None."""
    if not performs("redirect-target"):
        return value or None
    if not value or not value.startswith("/") or value.startswith("//"):
        return None
    # Browsers read "/\evil" as "//evil", and control characters can split headers.
    if "\\" in value or any(ord(c) < 0x20 or c == "\x7f" for c in value):
        return None
    return value
