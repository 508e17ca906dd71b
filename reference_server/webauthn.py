"""The WebAuthn relying party: options JSON, and checks of what a browser posts back.

Verification of signatures, challenge, origin, RP ID hash and the user-presence flag is
python-fido2's ``Fido2Server``. What that library leaves to the relying party is here and in
``views/webauthn.py``: the signature counter (:func:`counter_accepted`), which user a
credential belongs to, the credential id's size, the accepted algorithms, and turning the
browser's JSON into bytes strictly enough that bad input is a client error, never a crash.

Every binary value in the JSON is base64url without padding (padding is tolerated on input).
The key signs the options' challenge and user id as the page reads them: decoded from base64url,
or as Warehouse's page does, the codes of the string's characters
(``config.WEBAUTHN_ENCODINGS``). Nothing here touches Flask or the database.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import os
from dataclasses import dataclass
from typing import Any

from fido2 import features
from fido2.attestation import Attestation
from fido2.server import Fido2Server
from fido2.webauthn import (
    AttestationObject,
    AttestedCredentialData,
    AuthenticatorData,
    CollectedClientData,
    PublicKeyCredentialRpEntity,
)

from reference_server.checks import performs

# This module builds and reads the JSON forms itself; saying so silences fido2 1.x's warning
# about the unset switch on every call.
features.webauthn_json_mapping.enabled = False

RP_NAME = "Reference package index"
TIMEOUT_MS = 60000
USER_VERIFICATION = "discouraged"
# ES256, EdDSA, RS256, in the order of preference sent to the browser.
ALGORITHMS = (-7, -8, -257)
# WebAuthn Level 3 §7.1 step 25: credential ids longer than 1023 bytes must be refused.
MAX_CREDENTIAL_ID_BYTES = 1023
CHALLENGE_BYTES = 32


class MalformedCredential(ValueError):
    """The posted credential is not JSON of the expected shape, or base64url, or CBOR."""


class InvalidCredential(ValueError):
    """The credential parsed but does not verify (challenge, origin, signature, …)."""


@dataclass(frozen=True)
class RelyingParty:
    """The RP ID security keys are bound to and the one origin responses must come from."""

    id: str
    origin: str

    def server(self) -> Fido2Server:
        """A ``Fido2Server`` for this RP that accepts exactly ``origin``.

        fido2's own origin check accepts any https origin under the RP ID and
        ``http://localhost``; the contract is one configured (or request-derived) origin.
        """
        return Fido2Server(
            PublicKeyCredentialRpEntity(id=self.id, name=RP_NAME),
            verify_origin=lambda origin: (
                hmac.compare_digest(str(origin).encode(), self.origin.encode())
                or not performs("webauthn-origin")
            ),
        )


def b64url(data: bytes) -> str:
    """``data`` as base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(value: object, what: str) -> bytes:
    """Strictly decode base64url (padding optional); MalformedCredential names ``what``."""
    if not isinstance(value, str):
        raise MalformedCredential(f"{what} must be a base64url string")
    text = value.rstrip("=")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedCredential(f"{what} is not base64url") from exc


def signed_bytes(text: str, encoding: str) -> bytes:
    """The bytes a key signs for the options string ``text`` (a challenge or user id) when the
    page reads it in ``encoding`` (``base64url`` or ``char-codes``)."""
    if encoding == "char-codes":
        # The strings are base64url, so each character's code is its ASCII byte.
        return text.encode("ascii")
    return b64url_decode(text, "options string")


def new_state(encoding: str = "base64url") -> dict[str, str]:
    """A fresh single-use challenge: ``sent`` goes in the options, ``challenge`` is what the
    key signs (``sent`` read in ``encoding``), in the form ``Fido2Server`` takes back as
    ``state``.

    JSON-serialisable so it can live in the server-side session.
    """
    sent = b64url(os.urandom(CHALLENGE_BYTES))
    return {
        "challenge": b64url(signed_bytes(sent, encoding)),
        "sent": sent,
        "user_verification": USER_VERIFICATION,
    }


def descriptors(credential_ids: list[bytes]) -> list[dict[str, str]]:
    """``allowCredentials`` / ``excludeCredentials`` entries for ``credential_ids``."""
    return [{"id": b64url(cid), "type": "public-key"} for cid in credential_ids]


def creation_options(
    rp: RelyingParty,
    state: dict[str, str],
    *,
    user_handle: bytes,
    username: str,
    display_name: str,
    existing: list[bytes],
) -> dict[str, Any]:
    """``PublicKeyCredentialCreationOptions`` as Warehouse's JSON (keys sorted like it)."""
    return {
        "attestation": "none",
        "authenticatorSelection": {
            "requireResidentKey": False,
            "userVerification": USER_VERIFICATION,
        },
        "challenge": state["sent"],
        "excludeCredentials": descriptors(existing),
        "pubKeyCredParams": [{"alg": alg, "type": "public-key"} for alg in ALGORITHMS],
        "rp": {"id": rp.id, "name": RP_NAME},
        "timeout": TIMEOUT_MS,
        "user": {"displayName": display_name, "id": b64url(user_handle), "name": username},
    }


def request_options(
    rp: RelyingParty, state: dict[str, str], credential_ids: list[bytes]
) -> dict[str, Any]:
    """``PublicKeyCredentialRequestOptions`` as Warehouse's JSON."""
    return {
        "allowCredentials": descriptors(credential_ids),
        "challenge": state["sent"],
        "rpId": rp.id,
        "timeout": TIMEOUT_MS,
        "userVerification": USER_VERIFICATION,
    }


def _credential_json(text: str) -> tuple[bytes, dict[str, Any]]:
    """The credential id and ``response`` object of a posted credential JSON string.

    Accepts Warehouse's shape and the standard ``toJSON()`` one (extra keys such as
    ``clientExtensionResults``, ``authenticatorAttachment``, ``response.transports`` are
    ignored). ``id`` and ``rawId`` must agree when both are given.
    """
    try:
        data = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise MalformedCredential("credential is not JSON") from exc
    if not isinstance(data, dict):
        raise MalformedCredential("credential must be a JSON object")
    if data.get("type") != "public-key":
        raise MalformedCredential('credential type must be "public-key"')
    response = data.get("response")
    if not isinstance(response, dict):
        raise MalformedCredential("credential response must be an object")
    ids = {b64url_decode(data[k], k) for k in ("id", "rawId") if k in data}
    if len(ids) != 1:
        raise MalformedCredential("credential id and rawId are missing or differ")
    if performs("webauthn-extension-outputs"):
        _check_extension_outputs(data)
    return ids.pop(), response


EXTENSION_OUTPUTS = (
    "registrationClientExtensions",
    "assertionClientExtensions",
    "clientExtensionResults",
)
"""Where a posted credential carries its client extension outputs: Warehouse's page sends a
JSON string under the first two names, ``toJSON()`` an object under the third."""


def _check_extension_outputs(data: dict[str, Any]) -> None:
    """W3C WebAuthn §7.1 step 17 and §7.2 step 18: the index asks for no extension, so any
    outputs are only checked to be an object (unsolicited ones are allowed, as the steps let
    a relying party decide).

    :raises MalformedCredential: outputs that are not a JSON object.
    """
    for name in EXTENSION_OUTPUTS:
        if name not in data:
            continue
        outputs = data[name]
        if isinstance(outputs, str):
            try:
                outputs = json.loads(outputs)
            except ValueError:
                raise MalformedCredential(f"{name} is not JSON") from None
        if not isinstance(outputs, dict):
            raise MalformedCredential(f"{name} must be a JSON object")


@dataclass(frozen=True)
class Registration:
    """A verified new credential, ready to store."""

    credential_id: bytes
    attested_data: bytes
    sign_count: int


def verify_registration(rp: RelyingParty, state: dict[str, str], text: str) -> Registration:
    """Check a posted attestation (credential JSON string) against ``state``'s challenge.

    :raises MalformedCredential: unparseable JSON, base64url, CBOR or client data.
    :raises InvalidCredential: wrong type, challenge, origin, RP ID hash, no UP flag,
        no attested credential data, an id over 1023 bytes or disagreeing with the
        authenticator data, or an algorithm other than ES256, EdDSA or RS256.
    """
    claimed_id, response = _credential_json(text)
    client_data_raw = b64url_decode(response.get("clientDataJSON"), "clientDataJSON")
    attestation_raw = b64url_decode(response.get("attestationObject"), "attestationObject")
    try:
        client_data = CollectedClientData(client_data_raw)
        attestation = AttestationObject(attestation_raw)
    except Exception as exc:  # fido2 raises many types on bad CBOR/JSON: all are client errors
        raise MalformedCredential("clientDataJSON or attestationObject does not parse") from exc
    try:
        auth_data = rp.server().register_complete(state, client_data, attestation)
    except Exception as exc:
        raise InvalidCredential(str(exc)) from exc
    if performs("webauthn-attestation-statement"):
        verify_statement(attestation, client_data.hash)
    if performs("webauthn-token-binding"):
        verify_token_binding(client_data)
    credential = auth_data.credential_data
    if credential is None:
        raise InvalidCredential("no attested credential data")
    if len(credential.credential_id) > MAX_CREDENTIAL_ID_BYTES and performs(
        "webauthn-credential-id-length"
    ):
        raise InvalidCredential("credential id longer than 1023 bytes")
    if not hmac.compare_digest(credential.credential_id, claimed_id):
        raise InvalidCredential("credential id differs from the authenticator data")
    if credential.public_key.get(3) not in ALGORITHMS and performs("webauthn-algorithm"):
        raise InvalidCredential("unsupported public key algorithm")
    return Registration(credential.credential_id, bytes(credential), auth_data.counter)


def verify_statement(attestation: AttestationObject, client_data_hash: bytes) -> None:
    """W3C WebAuthn §7.1 steps 18 and 19, which ``Fido2Server`` skips without an attestation
    verifier: the format must be one the index knows and its statement must verify. The index
    asks for ``none`` attestation, as Warehouse does, so a verified statement needs no
    certificate chain to be trusted (step 21).

    :raises InvalidCredential: an unknown format, or a statement that does not verify.
    """
    try:
        verifier = Attestation.for_type(attestation.fmt)()
        verifier.verify(attestation.att_stmt, attestation.auth_data, client_data_hash)
    except Exception as exc:  # fido2 raises InvalidAttestation and, on odd statements, others
        raise InvalidCredential(f"attestation statement refused: {exc}") from exc


def verify_token_binding(client_data: CollectedClientData) -> None:
    """W3C WebAuthn §7.1 step 10 and §7.2 step 14, which ``Fido2Server`` skips: the index's
    connections never use Token Binding, so client data saying it was used (``present``) was
    not collected on this connection.

    :raises InvalidCredential: ``tokenBinding.status`` is ``present``, or not a known status.
    """
    binding = json.loads(client_data.decode()).get("tokenBinding")
    if binding is None:
        return
    status = binding.get("status") if isinstance(binding, dict) else None
    if status != "supported":
        raise InvalidCredential(f"token binding {status!r} does not match this connection")


@dataclass(frozen=True)
class Assertion:
    """A parsed (not yet verified) assertion."""

    credential_id: bytes
    client_data: CollectedClientData
    auth_data: AuthenticatorData
    signature: bytes
    user_handle: bytes | None


def parse_assertion(text: str) -> Assertion:
    """The parts of a posted assertion (credential JSON string); MalformedCredential if bad."""
    credential_id, response = _credential_json(text)
    client_data_raw = b64url_decode(response.get("clientDataJSON"), "clientDataJSON")
    auth_data_raw = b64url_decode(response.get("authenticatorData"), "authenticatorData")
    signature = b64url_decode(response.get("signature"), "signature")
    handle = response.get("userHandle")
    user_handle = b64url_decode(handle, "userHandle") if handle else None
    try:
        client_data = CollectedClientData(client_data_raw)
        auth_data = AuthenticatorData(auth_data_raw)
    except Exception as exc:  # as above: every parse failure is the client's
        raise MalformedCredential("clientDataJSON or authenticatorData does not parse") from exc
    return Assertion(credential_id, client_data, auth_data, signature, user_handle)


def verify_assertion(
    rp: RelyingParty, state: dict[str, str], assertion: Assertion, attested_data: bytes
) -> int:
    """Check ``assertion`` against ``state``'s challenge and the stored credential.

    Returns the authenticator's signature counter; the caller must still apply
    :func:`counter_accepted` and check that the credential belongs to the pending user.
    :raises InvalidCredential: any failed check.
    """
    stored = AttestedCredentialData(attested_data)
    try:
        rp.server().authenticate_complete(
            state,
            [stored],
            assertion.credential_id,
            assertion.client_data,
            assertion.auth_data,
            assertion.signature,
        )
    except Exception as exc:
        raise InvalidCredential(str(exc)) from exc
    if performs("webauthn-token-binding"):
        verify_token_binding(assertion.client_data)
    return assertion.auth_data.counter


def counter_accepted(stored: int, received: int) -> bool:
    """The signature counter rule: it must increase, unless the key never counts (0 and 0)."""
    return received > stored or (received == 0 and stored == 0)
