"""A security key with exactly one thing wrong, to check that a relying party refuses it.

``FaultyKey(fault)`` is :class:`~virtual_authenticators.soft.SoftKey` with one knob turned;
``FaultyKey(None)`` is its honest twin. Step numbers below are those of W3C WebAuthn Level 2,
§7.1 (registering a new credential) and §7.2 (verifying an authentication assertion).
"""

from __future__ import annotations

import copy
import dataclasses
import enum
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa
from fido2.cose import RS1, CoseKey
from soft_webauthn import SoftWebauthnDevice

from virtual_authenticators.base import AuthenticatorError
from virtual_authenticators.soft import FLAG, TYPE, Ceremony, Credential, SoftKey

# A host that is neither the RP ID nor a registrable suffix of it.
FOREIGN_HOST = "evil.example"


@enum.unique
class Fault(enum.Enum):
    """One knob of a faulty key; each member names the relying-party step it violates."""

    WRONG_ORIGIN = "wrong-origin"
    """The client data's origin has another host (a phishing page): §7.1 step 9, §7.2 step 13."""

    WRONG_RP_ID_HASH = "wrong-rp-id-hash"
    """The authenticator data's rpIdHash is that of another RP ID: §7.1 step 13, §7.2 step 15."""

    WRONG_CHALLENGE = "wrong-challenge"
    """The client data's challenge has one bit flipped: §7.1 step 8, §7.2 step 12."""

    WRONG_TYPE = "wrong-type"
    """The client data's type is ``webauthn.get`` on registration and ``webauthn.create`` on
    assertion: §7.1 step 7, §7.2 step 11."""

    TOKEN_BINDING_PRESENT = "token-binding-present"
    """The client data says Token Binding was used (``tokenBinding.status`` ``present``, with
    an id) on a connection that had none: §7.1 step 10, §7.2 step 14."""

    COUNTER_BACKWARDS = "counter-backwards"
    """Each assertion's counter is one below the previous one (a clone restored from an older
    state); it starts from the credential's stored count, which must be above 0:
    §7.2 step 21."""

    COUNTER_FROZEN = "counter-frozen"
    """Every assertion reports the same non-zero counter (1, or the stored count): §7.2 step 21
    (only a counter that stays 0 is allowed)."""

    UP_CLEARED = "up-cleared"
    """The User Present flag is cleared: §7.1 step 14, §7.2 step 16."""

    UV_MISSING = "uv-missing"
    """The User Verified flag is not set although the options require it: §7.1 step 15,
    §7.2 step 17."""

    BAD_SIGNATURE = "bad-signature"
    """The assertion signature has one bit flipped (registration with ``none`` attestation
    signs nothing): §7.2 step 20."""

    UNSUPPORTED_ALGORITHM = "unsupported-algorithm"
    """New credentials are RSA keys with COSE alg RS1 (-65535), whatever ``pubKeyCredParams``
    offers: §7.1 step 16."""

    FOREIGN_CREDENTIAL_ID = "foreign-credential-id"
    """Responses name :attr:`FaultyKey.foreign_credential_id` (e.g. another user's credential,
    or 1024 bytes) instead of the key's own: a registration as the new credential's id
    (§7.1 step 22: not registered yet, to anyone; Level 3 §7.1 step 25: at most 1023 bytes),
    an assertion while signing with the key's own newest credential (§7.2 steps 5 to 7: the
    credential is allowed, belongs to the user, and its public key verifies the signature in
    step 20)."""

    REPLAYED_ASSERTION = "replayed-assertion"
    """Every assertion after the first is the first one again, byte for byte: §7.2 step 12
    (a challenge is used once) and step 21 (the counter does not rise)."""


class FaultyKey(SoftKey):
    """A :class:`SoftKey` with one fault, or none.

    :param fault: the knob turned; ``None`` makes the honest twin.
    :param foreign_credential_id: the id that :attr:`Fault.FOREIGN_CREDENTIAL_ID` names;
        it may be set later, as an attribute.
    """

    def __init__(self, fault: Fault | None, foreign_credential_id: bytes | None = None) -> None:
        super().__init__()
        self.fault = fault
        self.foreign_credential_id = foreign_credential_id
        self._last_assertion: dict[str, Any] | None = None

    def __repr__(self) -> str:
        return f"FaultyKey({self.fault})"

    def get(self, options: Mapping[str, Any], origin: str) -> dict[str, Any]:
        """See :meth:`SoftKey.get`; a replaying key answers with its first assertion again."""
        if self.fault is Fault.REPLAYED_ASSERTION and self._last_assertion is not None:
            return copy.deepcopy(self._last_assertion)
        assertion = super().get(options, origin)
        self._last_assertion = copy.deepcopy(assertion)
        return assertion

    def _public_key(self, device: SoftWebauthnDevice, algorithms: list[int]) -> CoseKey:
        if self.fault is not Fault.UNSUPPORTED_ALGORITHM:
            return super()._public_key(device, algorithms)
        return swap_in_rsa1_key(device)

    def _select(self, rp_id: str, allowed: list[bytes]) -> tuple[bytes, Credential]:
        if self.fault is not Fault.FOREIGN_CREDENTIAL_ID:
            return super()._select(rp_id, allowed)
        # Whatever the relying party allowed: the point is to name a credential it did not.
        _, own = super()._select(rp_id, [])
        return self._foreign_id(), own

    def _foreign_id(self) -> bytes:
        if self.foreign_credential_id is None:
            raise ValueError("set foreign_credential_id before a foreign-credential-id response")
        return self.foreign_credential_id

    def _adjust(self, ceremony: Ceremony) -> Ceremony:
        assertion = ceremony.type is TYPE.GET
        match self.fault:
            case Fault.WRONG_ORIGIN:
                return dataclasses.replace(ceremony, origin=_with_host(ceremony.origin))
            case Fault.WRONG_RP_ID_HASH:
                return dataclasses.replace(ceremony, rp_id=FOREIGN_HOST)
            case Fault.WRONG_CHALLENGE:
                return dataclasses.replace(ceremony, challenge=flip_bit(ceremony.challenge))
            case Fault.TOKEN_BINDING_PRESENT:
                binding = {"status": "present", "id": "dG9rZW4tYmluZGluZy1pZA"}
                return dataclasses.replace(ceremony, token_binding=binding)
            case Fault.WRONG_TYPE:
                swapped = TYPE.CREATE if assertion else TYPE.GET
                return dataclasses.replace(ceremony, type=swapped)
            case Fault.COUNTER_BACKWARDS | Fault.COUNTER_FROZEN if assertion:
                # The honest count is the stored one plus one.
                stored = ceremony.sign_count - 1
                return dataclasses.replace(ceremony, sign_count=reported_count(stored, self.fault))
            case Fault.UP_CLEARED:
                return dataclasses.replace(ceremony, flags=ceremony.flags & ~FLAG.UP)
            case Fault.UV_MISSING:
                return dataclasses.replace(ceremony, flags=ceremony.flags & ~FLAG.UV)
            case Fault.FOREIGN_CREDENTIAL_ID if not assertion:
                return dataclasses.replace(ceremony, credential_id=self._foreign_id())
        return ceremony

    def _sign(self, credential: Credential, message: bytes) -> bytes:
        signature = super()._sign(credential, message)
        if self.fault is Fault.BAD_SIGNATURE:
            return flip_bit(signature)
        return signature


def reported_count(stored: int, fault: Fault | None) -> int:
    """The counter an assertion reports after ``stored``: one up, or as the counter faults say.

    :raises AuthenticatorError: :attr:`Fault.COUNTER_BACKWARDS` from a stored count of 0.
    """
    match fault:
        case Fault.COUNTER_BACKWARDS:
            if stored == 0:
                raise AuthenticatorError("the sign count is 0: set it higher to go backwards")
            return stored - 1
        case Fault.COUNTER_FROZEN:
            return max(stored, 1)
    return stored + 1


def swap_in_rsa1_key(device: SoftWebauthnDevice) -> CoseKey:
    """Give ``device`` an RSA key and return its public key as COSE alg RS1 (-65535), an
    algorithm no relying party offers; soft-webauthn itself only makes P-256 keys."""
    device.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return RS1.from_cryptography_key(device.private_key.public_key())


def flip_bit(data: bytes) -> bytes:
    """``data`` with the lowest bit of its last byte flipped."""
    return data[:-1] + bytes([data[-1] ^ 1])


def _with_host(origin: str) -> str:
    """The origin with its host replaced by :data:`FOREIGN_HOST`, scheme and port kept."""
    parts = urlsplit(origin)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{FOREIGN_HOST}{port}"
