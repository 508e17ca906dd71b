"""Password hashing (argon2, as Warehouse) and Warehouse's password rules."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

MIN_LENGTH = 8
MAX_LENGTH = 4096
# zxcvbn refuses longer input (zxcvbn 4.5 raises ValueError past 72 characters), and its
# verdict on a long password does not change past this.
ZXCVBN_MAX_INPUT = 72
MIN_ZXCVBN_SCORE = 2


class Passwords:
    """Hashes and checks passwords with one set of argon2 parameters."""

    def __init__(self, time_cost: int, memory_cost: int, parallelism: int) -> None:
        self.hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism
        )
        # Checked against when the username is unknown, so both answers take as long.
        self._dummy_hash = self.hasher.hash("not the password of anybody")

    def hash(self, password: str) -> str:
        """An argon2 hash of ``password``."""
        return self.hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; with ``password_hash`` None, spends the same time."""
        try:
            return self.hasher.verify(password_hash or self._dummy_hash, password) and (
                password_hash is not None
            )
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with other parameters than the current ones."""
        return self.hasher.check_needs_rehash(password_hash)


def password_errors(password: str, user_inputs: list[str]) -> list[str]:
    """Why ``password`` is refused (empty when it is acceptable): length, then zxcvbn score."""
    if not password:
        return ["This field is required."]
    if len(password) < MIN_LENGTH:
        return [f"Password must be at least {MIN_LENGTH} characters."]
    if len(password) > MAX_LENGTH:
        return [f"Password must be at most {MAX_LENGTH} characters."]
    result = zxcvbn(password[:ZXCVBN_MAX_INPUT], user_inputs=[u for u in user_inputs if u])
    if result["score"] < MIN_ZXCVBN_SCORE:
        feedback = result["feedback"]
        hints = " ".join(filter(None, [feedback.get("warning"), *feedback.get("suggestions", [])]))
        return [f"Password is too easily guessed. {hints}".strip()]
    return []
