"""An honest software security key holding any number of ES256 credentials.

soft-webauthn's ``SoftWebauthnDevice`` holds one credential and never sets UV, so the key keeps
one device per credential (for its id, private key, RP ID, user handle and counter) and
builds client data, authenticator data and signatures itself, in :meth:`SoftKey._respond`.
Every response, honest or faulty, is first a :class:`Ceremony` and then goes through that one
method, so a fault (see :mod:`virtual_authenticators.faulty`) differs by exactly one thing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from fido2.cose import ES256, RS1, CoseKey
from fido2.utils import sha256, websafe_decode, websafe_encode
from fido2.webauthn import (
    AttestationObject,
    AttestedCredentialData,
    AuthenticatorData,
    CollectedClientData,
    PublicKeyCredentialType,
    UserVerificationRequirement,
)
from soft_webauthn import SoftWebauthnDevice

from virtual_authenticators.base import (
    ExcludedCredentialError,
    NoCredentialError,
    UnsupportedAlgorithmError,
)

FLAG = AuthenticatorData.FLAG
TYPE = CollectedClientData.TYPE

# How each COSE algorithm the keys can hold signs. The honest keys only make ES256; RS1 is
# here so that the unsupported-algorithm fault still signs through the same function.
_SIGNERS: dict[int, Callable[[Any, bytes], bytes]] = {
    ES256.ALGORITHM: lambda key, message: key.sign(message, ec.ECDSA(hashes.SHA256())),
    RS1.ALGORITHM: lambda key, message: key.sign(message, padding.PKCS1v15(), hashes.SHA1()),
}


@dataclass(frozen=True)
class Credential:
    """One credential: a soft-webauthn device (id, private key, RP ID, user handle, counter)
    and the COSE public key the key registered for it."""

    device: SoftWebauthnDevice
    public_key: CoseKey

    @property
    def credential_id(self) -> bytes:
        return self.device.credential_id

    def attested(self, credential_id: bytes | None = None) -> AttestedCredentialData:
        """The attested credential data that registration puts into the authenticator data,
        naming ``credential_id`` (default: the credential's own id)."""
        return AttestedCredentialData.create(
            self.device.aaguid, credential_id or self.credential_id, self.public_key
        )

    def sign(self, message: bytes) -> bytes:
        """Sign ``message`` with the private key, by the credential's COSE algorithm."""
        return _SIGNERS[self.public_key.ALGORITHM](self.device.private_key, message)

    def set_sign_count(self, count: int) -> None:
        """Set the counter, e.g. to stand for a key used elsewhere before.

        :raises ValueError: the count does not fit the 32-bit field.
        """
        if not 0 <= count < 2**32:
            raise ValueError(f"sign count {count} does not fit in 32 bits")
        self.device.sign_count = count


@dataclass(frozen=True)
class Ceremony:
    """Every field of one response, before it is encoded and signed.

    :param type: ``webauthn.create`` or ``webauthn.get`` in the client data.
    :param challenge: the challenge echoed in the client data.
    :param origin: the origin in the client data.
    :param rp_id: the RP ID whose SHA-256 starts the authenticator data.
    :param flags: the authenticator data flags.
    :param sign_count: the signature counter in the authenticator data.
    :param credential_id: the credential id the response names (``id`` / ``rawId``).
    :param user_handle: the user handle returned by an assertion.
    :param token_binding: the client data's ``tokenBinding`` member, when there is one.
    """

    type: CollectedClientData.TYPE
    challenge: bytes
    origin: str
    rp_id: str
    flags: AuthenticatorData.FLAG
    sign_count: int
    credential_id: bytes
    user_handle: bytes | None = None
    token_binding: dict[str, str] | None = None


class SoftKey:
    """A software security key (USB, cross-platform) with ES256 credentials and ``none``
    attestation. It sets UP on every response, AT on registration, and UV when the options
    require user verification (it stands for a key whose PIN was entered). Its counter is
    per credential, starts at 0 and rises by one per assertion.

    :param counter: ``False`` makes a key without a signature counter, which reports 0 on
        every assertion (W3C WebAuthn §6.1.1 allows it; relying parties must accept it).
    """

    def __init__(self, *, counter: bool = True) -> None:
        self.counter = counter
        self._credentials: dict[bytes, Credential] = {}

    @property
    def credentials(self) -> tuple[bytes, ...]:
        """The ids of the credentials held, oldest first."""
        return tuple(self._credentials)

    def credential(self, credential_id: bytes) -> Credential:
        """The held credential with this id.

        :raises KeyError: the key does not hold it.
        """
        return self._credentials[credential_id]

    def hold(self, device: SoftWebauthnDevice) -> None:
        """Take in an ES256 credential made before (its id, private key, RP ID, user handle
        and counter on ``device``), as a key restored from storage holds what it made."""
        public_key = ES256.from_cryptography_key(device.private_key.public_key())
        self._credentials[device.credential_id] = Credential(device, public_key)

    def sign_count(self, credential_id: bytes) -> int:
        """The signature counter the credential last reported."""
        return self.credential(credential_id).device.sign_count

    def set_sign_count(self, credential_id: bytes, count: int) -> None:
        """Set the credential's counter, e.g. to stand for a key used elsewhere before.

        :raises KeyError: the key does not hold it.
        :raises ValueError: the count does not fit the 32-bit field.
        """
        self.credential(credential_id).set_sign_count(count)

    def create(self, options: Mapping[str, Any], origin: str) -> dict[str, Any]:
        """See :meth:`virtual_authenticators.base.Authenticator.create`."""
        rp_id = options["rp"].get("id") or origin_host(origin)
        for descriptor in options.get("excludeCredentials") or []:
            if (excluded := websafe_decode(descriptor["id"])) in self._credentials:
                raise ExcludedCredentialError(excluded)
        algorithms = [
            param["alg"]
            for param in options["pubKeyCredParams"]
            if param["type"] == PublicKeyCredentialType.PUBLIC_KEY
        ]
        device = SoftWebauthnDevice()
        device.cred_init(rp_id, websafe_decode(options["user"]["id"]))
        credential = Credential(device, self._public_key(device, algorithms))
        selection = options.get("authenticatorSelection") or {}
        ceremony = Ceremony(
            type=TYPE.CREATE,
            challenge=websafe_decode(options["challenge"]),
            origin=origin,
            rp_id=rp_id,
            flags=FLAG.UP | FLAG.AT | _uv_flag(selection.get("userVerification")),
            sign_count=device.sign_count,
            credential_id=credential.credential_id,
        )
        response = self._respond(self._adjust(ceremony), credential)
        self._credentials[credential.credential_id] = credential
        return response

    def get(self, options: Mapping[str, Any], origin: str) -> dict[str, Any]:
        """See :meth:`virtual_authenticators.base.Authenticator.get`.

        With an empty ``allowCredentials`` the newest credential for the RP ID answers.
        """
        rp_id = options.get("rpId") or origin_host(origin)
        allowed = [websafe_decode(d["id"]) for d in options.get("allowCredentials") or []]
        credential_id, credential = self._select(rp_id, allowed)
        ceremony = self._adjust(
            Ceremony(
                type=TYPE.GET,
                challenge=websafe_decode(options["challenge"]),
                origin=origin,
                rp_id=rp_id,
                flags=FLAG.UP | _uv_flag(options.get("userVerification")),
                sign_count=credential.device.sign_count + 1 if self.counter else 0,
                credential_id=credential_id,
                user_handle=credential.device.user_handle,
            )
        )
        credential.device.sign_count = ceremony.sign_count
        return self._respond(ceremony, credential)

    def _public_key(self, device: SoftWebauthnDevice, algorithms: list[int]) -> CoseKey:
        """The COSE public key for a new credential on ``device``.

        :raises UnsupportedAlgorithmError: ES256 was not offered.
        """
        if ES256.ALGORITHM not in algorithms:
            raise UnsupportedAlgorithmError(algorithms, [ES256.ALGORITHM])
        return ES256.from_cryptography_key(device.private_key.public_key())

    def _select(self, rp_id: str, allowed: list[bytes]) -> tuple[bytes, Credential]:
        """The id to name and the credential to sign with.

        :raises NoCredentialError: no held credential for ``rp_id`` is allowed.
        """
        candidates = allowed or list(reversed(self._credentials))
        for credential_id in candidates:
            credential = self._credentials.get(credential_id)
            if credential is not None and credential.device.rp_id == rp_id:
                return credential_id, credential
        raise NoCredentialError(rp_id)

    def _adjust(self, ceremony: Ceremony) -> Ceremony:
        """The ceremony as this key answers it: unchanged, since this key is honest."""
        return ceremony

    def _sign(self, credential: Credential, message: bytes) -> bytes:
        """The credential's signature of ``message``: honest here."""
        return credential.sign(message)

    def _respond(self, ceremony: Ceremony, credential: Credential) -> dict[str, Any]:
        """Encode the ceremony as the browser's ``toJSON()`` form, signing an assertion."""
        token_binding = {"tokenBinding": ceremony.token_binding} if ceremony.token_binding else {}
        client_data = CollectedClientData.create(
            type=ceremony.type,
            challenge=ceremony.challenge,
            origin=ceremony.origin,
            **token_binding,
        )
        auth_data = AuthenticatorData.create(
            sha256(ceremony.rp_id.encode()),
            ceremony.flags,
            ceremony.sign_count,
            credential.attested(ceremony.credential_id) if ceremony.flags & FLAG.AT else b"",
        )
        if ceremony.flags & FLAG.AT:
            # `none` attestation: nothing is signed at registration.
            response = {
                "clientDataJSON": websafe_encode(client_data),
                "attestationObject": websafe_encode(
                    AttestationObject.create("none", auth_data, {})
                ),
                "transports": ["usb"],
            }
        else:
            signature = self._sign(credential, auth_data + client_data.hash)
            response = {
                "clientDataJSON": websafe_encode(client_data),
                "authenticatorData": websafe_encode(auth_data),
                "signature": websafe_encode(signature),
                "userHandle": (
                    websafe_encode(ceremony.user_handle) if ceremony.user_handle else None
                ),
            }
        return public_key_credential(ceremony.credential_id, response)


def public_key_credential(credential_id: bytes, response: dict[str, Any]) -> dict[str, Any]:
    """``PublicKeyCredential.toJSON()`` around a response, as a USB key's in a browser."""
    return {
        "id": websafe_encode(credential_id),
        "rawId": websafe_encode(credential_id),
        "type": PublicKeyCredentialType.PUBLIC_KEY.value,
        "response": response,
        "clientExtensionResults": {},
        "authenticatorAttachment": "cross-platform",
    }


def origin_host(origin: str) -> str:
    """The origin's host: the RP ID a browser uses when the options name none."""
    return urlsplit(origin).hostname or ""


def _uv_flag(requirement: str | None) -> AuthenticatorData.FLAG:
    """UV when verification is required; a key without a PIN prompt skips it otherwise."""
    if requirement == UserVerificationRequirement.REQUIRED:
        return FLAG.UV
    return FLAG(0)
