"""Recovery codes: 8 codes of 16 lowercase hex characters, shown once, stored hashed.

Hashing: argon2 with cheap parameters. A code has 64 random bits, so a slow hash adds little
against guessing, but unlike an HMAC keyed with the server secret (random per start unless
``--secret-key-file`` is given) an argon2 hash survives a restart with a new key, and it is what
Warehouse stores. Checking a code verifies it against every code of the user, never stopping
early, so the time taken does not tell which code matched.
"""

from __future__ import annotations

import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

COUNT = 8
LENGTH = 16
MAX_INPUT = 64
_HEX = re.compile(r"[0-9a-f]{16}", re.ASCII)
_WHITESPACE = re.compile(r"\s+")

LENGTH_ERROR = "Recovery Codes must be 16 characters."
INVALID = "Invalid recovery code."
USED = "Recovery code has been previously used."

_hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


class RecoveryCodeFormatError(ValueError):
    """The submitted value cannot be a recovery code; the message is the user's error."""


def generate() -> list[str]:
    """A new set of codes (plain text, to show once)."""
    return [secrets.token_hex(LENGTH // 2) for _ in range(COUNT)]


def hash_code(code: str) -> str:
    """The stored form of a code."""
    return _hasher.hash(code)


def canonical_code(value: str) -> str:
    """The code without whitespace, lower-cased; RecoveryCodeFormatError when it is not one."""
    if len(value) > MAX_INPUT:
        raise RecoveryCodeFormatError(LENGTH_ERROR)
    code = _WHITESPACE.sub("", value).lower()
    if len(code) != LENGTH:
        raise RecoveryCodeFormatError(LENGTH_ERROR)
    if not _HEX.fullmatch(code):
        raise RecoveryCodeFormatError(INVALID)
    return code


def matches(stored_hash: str, code: str) -> bool:
    """True when ``code`` (canonical) is the code behind ``stored_hash``."""
    try:
        return _hasher.verify(stored_hash, code)
    except (VerificationError, InvalidHashError):
        return False
