"""Ceremonies between a virtual key and the ``relying_party`` fixture, and what to read from
their responses; shared by the tests of every key."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fido2.utils import websafe_decode
from fido2.webauthn import (
    AttestationObject,
    AttestedCredentialData,
    AuthenticatorData,
)

from virtual_authenticators.faulty import Fault

REFUSALS = {
    Fault.WRONG_ORIGIN: "Invalid origin",
    Fault.WRONG_RP_ID_HASH: "Wrong RP ID hash",
    Fault.WRONG_CHALLENGE: "Wrong challenge",
    Fault.WRONG_TYPE: "Incorrect type",
    Fault.UP_CLEARED: "User Present flag not set",
    Fault.UV_MISSING: "User verification required",
    Fault.BAD_SIGNATURE: "Invalid signature",
}
"""``Fido2Server``'s refusal for each fault it checks, so that a fault is refused for its own
reason."""


def register(key, relying_party, user_id=b"user-1", user_verification=None) -> AuthenticatorData:
    """Register a new credential of ``key`` for ``user_id``; the verified authenticator data."""
    options, state = relying_party.registration_options(user_id, user_verification)
    return relying_party.register(state, key.create(options, relying_party.origin))


def authenticate(
    key,
    relying_party,
    credentials: Sequence[AttestedCredentialData] | None = None,
    user_verification: str | None = None,
) -> AttestedCredentialData:
    """Ask ``key`` for an assertion and have the relying party verify it."""
    options, state = relying_party.authentication_options(credentials, user_verification)
    return relying_party.authenticate(state, key.get(options, relying_party.origin), credentials)


def counters(key, relying_party, times: int = 2) -> list[int]:
    """The counters of ``times`` successive assertions (not verified)."""
    options, _ = relying_party.authentication_options()
    return [
        authenticator_data(key.get(options, relying_party.origin)).counter for _ in range(times)
    ]


def authenticator_data(assertion: dict[str, Any]) -> AuthenticatorData:
    return AuthenticatorData(websafe_decode(assertion["response"]["authenticatorData"]))


def attestation_object(registration: dict[str, Any]) -> AttestationObject:
    return AttestationObject(websafe_decode(registration["response"]["attestationObject"]))


def registered_algorithm(registration: dict[str, Any]) -> int:
    """The COSE algorithm of the credential a registration response carries."""
    credential_data = attestation_object(registration).auth_data.credential_data
    assert credential_data is not None
    return credential_data.public_key.ALGORITHM
