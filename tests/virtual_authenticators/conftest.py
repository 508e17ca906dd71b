"""An independent relying party for the virtual keys: python-fido2's ``Fido2Server``.

It speaks the JSON forms the index uses, so the keys are checked on the very dicts a scenario
hands them, and by WebAuthn code that shares nothing with them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fido2.server import Fido2Server
from fido2.utils import websafe_decode, websafe_encode
from fido2.webauthn import (
    AttestationObject,
    AttestedCredentialData,
    AuthenticatorData,
    CollectedClientData,
)

RP_ID = "localhost"
ORIGIN = "http://localhost:8000"


def _to_json(options: Any) -> dict[str, Any]:
    """fido2's option object as the index's JSON: camelCase keys, binary as base64url.

    Whether or not ``fido2.features.webauthn_json_mapping`` is enabled (a global that may be
    set once, so the tests leave it alone), ``dict()`` gives camelCase keys; binary values are
    bytes or already base64url, and this encodes the bytes.
    """
    return json.loads(json.dumps(dict(options.public_key), default=websafe_encode))


@dataclass
class RelyingParty:
    """``Fido2Server`` for RP ID ``localhost`` served at ``origin``, with the credentials it
    has registered, per user id."""

    origin: str = ORIGIN
    server: Fido2Server = field(
        default_factory=lambda: Fido2Server({"id": RP_ID, "name": "Test index"})
    )
    users: dict[bytes, list[AttestedCredentialData]] = field(default_factory=dict)

    @property
    def credentials(self) -> list[AttestedCredentialData]:
        """Every registered credential, oldest first."""
        return [credential for held in self.users.values() for credential in held]

    def registration_options(
        self, user_id: bytes = b"user-1", user_verification: str | None = None
    ) -> tuple[dict[str, Any], Any]:
        """``PublicKeyCredentialCreationOptionsJSON`` excluding the user's credentials, and
        the state to pass to :meth:`register`."""
        options, state = self.server.register_begin(
            {"id": user_id, "name": "alice", "displayName": "Alice"},
            self.users.get(user_id, []),
            user_verification=user_verification,
        )
        return _to_json(options), (user_id, state)

    def register(self, state: Any, response: dict[str, Any]) -> AuthenticatorData:
        """Verify a ``RegistrationResponseJSON`` and keep the credential for the user.

        :raises ValueError: ``Fido2Server`` refused it.
        """
        user_id, server_state = state
        auth_data = self.server.register_complete(
            server_state,
            CollectedClientData(websafe_decode(response["response"]["clientDataJSON"])),
            AttestationObject(websafe_decode(response["response"]["attestationObject"])),
        )
        assert auth_data.credential_data is not None
        self.users.setdefault(user_id, []).append(auth_data.credential_data)
        return auth_data

    def authentication_options(
        self,
        credentials: Sequence[AttestedCredentialData] | None = None,
        user_verification: str | None = None,
    ) -> tuple[dict[str, Any], Any]:
        """``PublicKeyCredentialRequestOptionsJSON`` allowing ``credentials`` (default: all
        registered), and the server's state."""
        allowed = self.credentials if credentials is None else credentials
        options, state = self.server.authenticate_begin(
            allowed, user_verification=user_verification
        )
        return _to_json(options), state

    def authenticate(
        self,
        state: Any,
        response: dict[str, Any],
        credentials: Sequence[AttestedCredentialData] | None = None,
    ) -> AttestedCredentialData:
        """Verify an ``AuthenticationResponseJSON`` against ``credentials`` (default: all
        registered).

        :raises ValueError: ``Fido2Server`` refused it.
        """
        return self.server.authenticate_complete(
            state,
            self.credentials if credentials is None else credentials,
            websafe_decode(response["rawId"]),
            CollectedClientData(websafe_decode(response["response"]["clientDataJSON"])),
            AuthenticatorData(websafe_decode(response["response"]["authenticatorData"])),
            websafe_decode(response["response"]["signature"]),
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Silence fido2 1.x's notice that ``webauthn_json_mapping`` is unset: it is, on purpose."""
    for item in items:
        if item.path.parent == Path(__file__).parent:
            item.add_marker(
                pytest.mark.filterwarnings("ignore:Deprecated use of webauthn_json_mapping")
            )


@pytest.fixture
def relying_party() -> RelyingParty:
    """A fresh relying party per test."""
    return RelyingParty()
