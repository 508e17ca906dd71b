"""Signed, timestamped tokens (itsdangerous), one salt per purpose, as Warehouse's TokenService.

A token of one purpose never verifies as another. Payloads carry the precise issue time
(``issued``, the app clock) so that views can void a token issued before the user's last
login or password change; itsdangerous's own timestamp enforces the maximum age.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

SALTS = {
    "two-factor": "reference_server.two_factor",
    "email": "reference_server.email_verify",
    "password": "reference_server.password_reset",
    "remember-device": "reference_server.remember_device",
    "project-role": "reference_server.project_role",
}


class TokenExpired(Exception):
    """The token was genuine but is older than its maximum age."""


class TokenInvalid(Exception):
    """The token is malformed, forged or of another purpose."""


class Tokens:
    """Creates and checks the tokens of every purpose with one secret key and one clock."""

    def __init__(
        self, secret_key: str, clock: Callable[[], float], check_signatures: bool = True
    ) -> None:
        """``check_signatures=False`` (the ``token-signature`` check turned off) takes forged
        tokens for genuine ones; ages are still checked."""
        self.clock = clock

        class ClockSigner(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(clock())

            def verify_signature(self, value: bytes, sig: bytes) -> bool:
                return super().verify_signature(value, sig) or not check_signatures

        self._serializers = {
            purpose: URLSafeTimedSerializer(secret_key, salt=salt, signer=ClockSigner)
            for purpose, salt in SALTS.items()
        }

    def dumps(self, purpose: str, payload: dict[str, Any]) -> str:
        """A token for ``purpose`` holding ``payload`` plus its precise issue time."""
        return self._serializers[purpose].dumps({**payload, "issued": self.clock()})

    def loads(self, purpose: str, token: str, max_age: int | None) -> dict[str, Any]:
        """The payload of a genuine token of ``purpose`` younger than ``max_age`` seconds
        (of any age when None).

        Raises :class:`TokenExpired` or :class:`TokenInvalid`.
        """
        if not token or len(token) > 4096:
            raise TokenInvalid
        try:
            payload = self._serializers[purpose].loads(token, max_age=max_age)
        except SignatureExpired as exc:
            raise TokenExpired from exc
        except BadData as exc:
            raise TokenInvalid from exc
        if not isinstance(payload, dict) or not isinstance(payload.get("issued"), int | float):
            raise TokenInvalid
        return payload
