"""A software CTAP2 security key, and :class:`CtapKey`, which drives any CTAP2 device through
python-fido2's ``Fido2Client`` exactly as client code drives a real key.

:class:`SoftCtapDevice` implements python-fido2's abstract ``CtapDevice``: it answers CTAPHID_CBOR
requests (a command byte and a CBOR map) with a status byte and a CBOR map, statuses and all, as
a USB key does. So everything between the options JSON and the key, the client data, the RP ID
check, the silent pre-flight that filters allow and exclude lists and the choice of user
verification, is python-fido2's own client code, the same code that drives a real
``fido2.hid.CtapHidDevice``: pass one to :class:`CtapKey` and nothing else changes.

The device holds non-discoverable ES256 credentials (id, private key, RP ID, user handle and
counter, in soft-webauthn devices like :mod:`virtual_authenticators.soft`), answers with
``packed`` self attestation or ``none``, and can have the faults that live inside an
authenticator (:data:`DEVICE_FAULTS`, meaning what :class:`~virtual_authenticators.faulty.Fault`
says). Statuses and steps are those of CTAP 2.1 §6.1 (authenticatorMakeCredential) and §6.2
(authenticatorGetAssertion).
"""

from __future__ import annotations

import enum
import struct
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from threading import Event, Timer
from typing import Any, TypeVar

from fido2 import cbor
from fido2.client import ClientError, Fido2Client, UserInteraction
from fido2.cose import ES256
from fido2.ctap import STATUS, CtapDevice, CtapError
from fido2.ctap2 import AssertionResponse, AttestationResponse, Ctap2, Info
from fido2.hid import CAPABILITY, CTAPHID
from fido2.utils import sha256, websafe_decode, websafe_encode
from fido2.webauthn import (
    Aaguid,
    AttestationConveyancePreference,
    AuthenticatorAttachment,
    AuthenticatorData,
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialCreationOptions,
    PublicKeyCredentialDescriptor,
    PublicKeyCredentialParameters,
    PublicKeyCredentialRequestOptions,
    PublicKeyCredentialRpEntity,
    PublicKeyCredentialType,
    PublicKeyCredentialUserEntity,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)
from soft_webauthn import SoftWebauthnDevice

from virtual_authenticators.base import (
    AuthenticatorError,
    ExcludedCredentialError,
    NoCredentialError,
    TouchTimeoutError,
    UnsupportedAlgorithmError,
)
from virtual_authenticators.device import SoftDevice
from virtual_authenticators.faulty import (
    FOREIGN_HOST,
    Fault,
    flip_bit,
    reported_count,
    swap_in_rsa1_key,
)
from virtual_authenticators.soft import (
    FLAG,
    Credential,
    origin_host,
    public_key_credential,
)

CMD = Ctap2.CMD
ERR = CtapError.ERR
_T = TypeVar("_T")

# Sixteen ASCII bytes, so that this key's credentials are recognisable in any dump.
AAGUID = Aaguid(b"pypi-2fa-ctapkey")

DEVICE_FAULTS = frozenset(
    {
        Fault.WRONG_RP_ID_HASH,
        Fault.COUNTER_BACKWARDS,
        Fault.COUNTER_FROZEN,
        Fault.UP_CLEARED,
        Fault.UV_MISSING,
        Fault.BAD_SIGNATURE,
        Fault.UNSUPPORTED_ALGORITHM,
    }
)
"""The faults that live inside an authenticator. The others (origin, challenge and type of the
client data, the credential id named, a replayed response) are the client's, and
``Fido2Client`` builds those honestly: :class:`~virtual_authenticators.faulty.FaultyKey` has
them."""


@enum.unique
class AttestationFormat(enum.StrEnum):
    """The attestation statement formats the device can answer makeCredential with."""

    PACKED = "packed"
    """Self attestation: ``{alg, sig}``, signed with the new credential's own key, no ``x5c``."""

    NONE = "none"


@enum.unique
class _MakeCredential(enum.IntEnum):
    """authenticatorMakeCredential's parameter keys (CTAP 2.1 §6.1)."""

    CLIENT_DATA_HASH = 1
    RP = 2
    USER = 3
    PUB_KEY_CRED_PARAMS = 4
    EXCLUDE_LIST = 5
    OPTIONS = 7
    PIN_UV_AUTH_PARAM = 8


@enum.unique
class _GetAssertion(enum.IntEnum):
    """authenticatorGetAssertion's parameter keys (CTAP 2.1 §6.2)."""

    RP_ID = 1
    CLIENT_DATA_HASH = 2
    ALLOW_LIST = 3
    OPTIONS = 5
    PIN_UV_AUTH_PARAM = 6


class SoftCtapDevice(SoftDevice):
    """A USB security key in software: CTAP2 only (no U2F), the user touches it at once.

    Its getInfo: versions FIDO_2_0 and FIDO_2_1, :data:`AAGUID`, ES256 only, transport ``usb``,
    options ``rk: false`` (credentials are not discoverable), ``up``, ``plat: false``, and with
    built-in user verification ``uv`` and ``makeCredUvNotRqd`` (so that a client asks for UV
    only when the relying party prefers or requires it). Built-in UV is asked for the CTAP 2.0
    way, with the ``uv`` option: the device has no authenticatorClientPIN and no
    pinUvAuthToken, and rejects any ``pinUvAuthParam`` with PIN_AUTH_INVALID.

    Each credential's counter starts at 0 and rises by one per assertion with user presence; a
    silent assertion (``up: false``, the pre-flight a client sends to filter allow and exclude
    lists) reports it unchanged and is not counted as a use. An assertion returns the
    credential's descriptor and user handle.

    :param attestation: ``packed`` self attestation (the default) or ``none``.
    :param uv: whether the key has built-in user verification (a fingerprint reader, say),
        which always succeeds; without it ``uv`` is absent from getInfo, and a request for UV
        is refused with INVALID_OPTION.
    :param fault: one of :data:`DEVICE_FAULTS`, or ``None``; an attribute that may be set later.
    :raises ValueError: the fault is not one a device can have.
    """

    FAULTS = DEVICE_FAULTS

    def __init__(
        self,
        *,
        attestation: AttestationFormat | str = AttestationFormat.PACKED,
        uv: bool = True,
        fault: Fault | None = None,
    ) -> None:
        self.attestation = AttestationFormat(attestation)
        self.uv = uv
        self.fault = fault
        self._credentials: dict[bytes, Credential] = {}

    def __repr__(self) -> str:
        attestation, uv, fault = self.attestation.value, self.uv, self.fault
        return f"SoftCtapDevice({attestation=}, {uv=}, {fault=})"

    def _refusal_of(self, fault: Fault) -> str:
        return (
            f"{fault} lives in the client, not in the authenticator: Fido2Client builds the"
            " client data and names the credential honestly; use FaultyKey for it"
        )

    @property
    def capabilities(self) -> int:
        """CBOR and NMSG: a CTAP2 key without CTAP1/U2F, so clients speak CTAP2 to it."""
        return CAPABILITY.CBOR | CAPABILITY.NMSG

    @property
    def info(self) -> Info:
        """What authenticatorGetInfo answers."""
        options = {"rk": False, "up": True, "plat": False}
        if self.uv:
            options |= {"uv": True, "makeCredUvNotRqd": True}
        return Info(
            versions=["FIDO_2_0", "FIDO_2_1"],
            aaguid=AAGUID,
            options=options,
            # python-fido2 1.2's client insists on a PIN/UV protocol before it asks for built-in
            # UV, even without a token (ClientPin raises ValueError otherwise).
            pin_uv_protocols=[1] if self.uv else [],
            max_creds_in_list=8,
            max_cred_id_length=128,
            transports=["usb"],
            algorithms=[{"type": PublicKeyCredentialType.PUBLIC_KEY.value, "alg": ES256.ALGORITHM}],
        )

    @property
    def credentials(self) -> tuple[bytes, ...]:
        """The ids of the credentials held, oldest first."""
        return tuple(self._credentials)

    def sign_count(self, credential_id: bytes) -> int:
        """The signature counter the credential last reported.

        :raises KeyError: the device does not hold it.
        """
        return self._credentials[credential_id].device.sign_count

    def set_sign_count(self, credential_id: bytes, count: int) -> None:
        """Set the credential's counter, e.g. to stand for a key used elsewhere before.

        :raises KeyError: the device does not hold it.
        :raises ValueError: the count does not fit the 32-bit field.
        """
        self._credentials[credential_id].set_sign_count(count)

    def call(
        self,
        cmd: int,
        data: bytes = b"",
        event: Event | None = None,
        on_keepalive: Callable[[STATUS], None] | None = None,
    ) -> bytes:
        """Answer one CTAPHID message: for CTAPHID_CBOR, a status byte and a CBOR map.

        A request the device refuses is answered with its CTAP status, as a real key answers;
        it raises only what a HID device raises.

        :raises CtapError: INVALID_COMMAND for any CTAPHID command but CBOR (CTAPHID_ERROR).
        :raises AuthenticatorError: :attr:`Fault.COUNTER_BACKWARDS` from a count of 0.
        """
        if cmd != CTAPHID.CBOR:
            raise CtapError(ERR.INVALID_COMMAND)
        if event is not None and event.is_set():
            return bytes([ERR.KEEPALIVE_CANCEL])
        try:
            response = self._respond(data, on_keepalive)
        except CtapError as refusal:
            return bytes([refusal.code])
        return bytes([ERR.SUCCESS]) + (cbor.encode(dict(response)) if response else b"")

    def _respond(
        self, data: bytes, on_keepalive: Callable[[STATUS], None] | None
    ) -> Mapping[int, Any] | None:
        if not data:
            raise CtapError(ERR.INVALID_LENGTH)
        match data[0]:
            case CMD.GET_INFO:
                return self.info
            case CMD.MAKE_CREDENTIAL:
                return self._make_credential(_decode(data[1:]), on_keepalive)
            case CMD.GET_ASSERTION:
                return self._get_assertion(_decode(data[1:]), on_keepalive)
            case CMD.SELECTION:
                _touch(on_keepalive)
                return None
        raise CtapError(ERR.INVALID_COMMAND)

    def _make_credential(
        self, params: Mapping[int, Any], on_keepalive: Callable[[STATUS], None] | None
    ) -> AttestationResponse:
        keys = _MakeCredential
        client_data_hash = _required(params, keys.CLIENT_DATA_HASH, bytes)
        rp_id = _required(_required(params, keys.RP, dict), "id", str)
        user_id = _required(_required(params, keys.USER, dict), "id", bytes)
        algorithms = [
            _required(param, "alg", int)
            for param in _required(params, keys.PUB_KEY_CRED_PARAMS, list)
            if _required(param, "type", str) == PublicKeyCredentialType.PUBLIC_KEY
        ]
        if ES256.ALGORITHM not in algorithms and self.fault is not Fault.UNSUPPORTED_ALGORITHM:
            raise CtapError(ERR.UNSUPPORTED_ALGORITHM)
        options = self._options(params, keys.OPTIONS, keys.PIN_UV_AUTH_PARAM)
        if options.get("up") is False:
            raise CtapError(ERR.INVALID_OPTION)
        _touch(on_keepalive)
        excluded = _ids(_optional(params, keys.EXCLUDE_LIST, list) or [])
        if any(self._held(rp_id, credential_id) for credential_id in excluded):
            raise CtapError(ERR.CREDENTIAL_EXCLUDED)
        credential = self._new_credential(rp_id, user_id)
        flags = FLAG.UP | FLAG.AT | (FLAG.UV if options.get("uv") else FLAG(0))
        auth_data = self._auth_data(rp_id, flags, credential.device.sign_count, credential)
        statement = {}
        if self.attestation is AttestationFormat.PACKED:
            signature = self._sign(credential, auth_data + client_data_hash)
            statement = {"alg": credential.public_key.ALGORITHM, "sig": signature}
        self._credentials[credential.credential_id] = credential
        return AttestationResponse(self.attestation.value, auth_data, statement)

    def _get_assertion(
        self, params: Mapping[int, Any], on_keepalive: Callable[[STATUS], None] | None
    ) -> AssertionResponse:
        keys = _GetAssertion
        rp_id = _required(params, keys.RP_ID, str)
        client_data_hash = _required(params, keys.CLIENT_DATA_HASH, bytes)
        allowed = _ids(_optional(params, keys.ALLOW_LIST, list) or [])
        options = self._options(params, keys.OPTIONS, keys.PIN_UV_AUTH_PARAM)
        present = options.get("up", True)
        if present:
            _touch(on_keepalive)
        credential = self._select(rp_id, allowed)
        flags = (FLAG.UP if present else FLAG(0)) | (FLAG.UV if options.get("uv") else FLAG(0))
        count = self._count_use(credential) if present else credential.device.sign_count
        auth_data = self._auth_data(rp_id, flags, count)
        return AssertionResponse(
            credential={
                "type": PublicKeyCredentialType.PUBLIC_KEY.value,
                "id": credential.credential_id,
            },
            auth_data=auth_data,
            signature=self._sign(credential, auth_data + client_data_hash),
            user={"id": credential.device.user_handle},
        )

    def _options(self, params: Mapping[int, Any], key: int, pin_uv_key: int) -> dict[str, bool]:
        """The request's options, refused as CTAP 2.1 §6.1.2 and §6.2.2 step 5 refuse them."""
        if pin_uv_key in params:
            # No token was ever issued, so no pinUvAuthParam can be valid.
            raise CtapError(ERR.PIN_AUTH_INVALID)
        options = _optional(params, key, dict) or {}
        if options.get("rk"):
            raise CtapError(ERR.UNSUPPORTED_OPTION)
        if options.get("uv") and not self.uv:
            raise CtapError(ERR.INVALID_OPTION)
        return options

    def _held(self, rp_id: str, credential_id: bytes) -> Credential | None:
        """The credential with this id if it is held for ``rp_id``."""
        credential = self._credentials.get(credential_id)
        return credential if credential is not None and credential.device.rp_id == rp_id else None

    def _select(self, rp_id: str, allowed: list[bytes]) -> Credential:
        """The first allowed credential held for ``rp_id``.

        With no allowList, the newest held for ``rp_id`` answers, as
        :class:`~virtual_authenticators.soft.SoftKey` does, so that a scenario can ask either
        key for an assertion the page did not ask for. A real key holding only non-discoverable
        credentials finds nothing without their ids and answers NO_CREDENTIALS instead.

        :raises CtapError: NO_CREDENTIALS.
        """
        for credential_id in allowed or reversed(self._credentials):
            if credential := self._held(rp_id, credential_id):
                return credential
        raise CtapError(ERR.NO_CREDENTIALS)

    def _new_credential(self, rp_id: str, user_id: bytes) -> Credential:
        """A new ES256 credential, or with :attr:`Fault.UNSUPPORTED_ALGORITHM` an RS1 one."""
        holder = SoftWebauthnDevice()
        holder.cred_init(rp_id, user_id)
        holder.aaguid = AAGUID
        if self.fault is Fault.UNSUPPORTED_ALGORITHM:
            return Credential(holder, swap_in_rsa1_key(holder))
        return Credential(holder, ES256.from_cryptography_key(holder.private_key.public_key()))

    def _count_use(self, credential: Credential) -> int:
        """The counter an assertion reports, kept as the credential's count: one up, or as
        :attr:`Fault.COUNTER_BACKWARDS` and :attr:`Fault.COUNTER_FROZEN` say."""
        count = reported_count(credential.device.sign_count, self.fault)
        credential.device.sign_count = count
        return count

    def _auth_data(
        self,
        rp_id: str,
        flags: AuthenticatorData.FLAG,
        count: int,
        attested: Credential | None = None,
    ) -> AuthenticatorData:
        if self.fault is Fault.WRONG_RP_ID_HASH:
            rp_id = FOREIGN_HOST
        if self.fault is Fault.UP_CLEARED:
            flags &= ~FLAG.UP
        if self.fault is Fault.UV_MISSING:
            flags &= ~FLAG.UV
        credential_data = attested.attested() if attested else b""
        return AuthenticatorData.create(sha256(rp_id.encode()), flags, count, credential_data)

    def _sign(self, credential: Credential, message: bytes) -> bytes:
        """The credential's signature; with :attr:`Fault.BAD_SIGNATURE` every signature the
        device makes, the packed attestation statement's too, has one bit flipped."""
        signature = credential.sign(message)
        return flip_bit(signature) if self.fault is Fault.BAD_SIGNATURE else signature


def _touch(on_keepalive: Callable[[STATUS], None] | None) -> None:
    """Ask for the user's touch, as a key does with keep-alives; the user touches at once."""
    if on_keepalive is not None:
        on_keepalive(STATUS.UPNEEDED)


def _decode(payload: bytes) -> Mapping[int, Any]:
    """The command's parameters: a CBOR map with integer keys.

    :raises CtapError: INVALID_CBOR or CBOR_UNEXPECTED_TYPE.
    """
    if not payload:
        return {}
    try:
        params = cbor.decode(payload)
    except (ValueError, KeyError, IndexError, TypeError, struct.error):
        raise CtapError(ERR.INVALID_CBOR) from None
    if not isinstance(params, dict) or not all(isinstance(key, int) for key in params):
        raise CtapError(ERR.CBOR_UNEXPECTED_TYPE)
    return params


def _optional(params: Mapping[Any, Any], key: Any, kind: type[_T]) -> _T | None:
    """``params[key]`` if present, of CBOR type ``kind``.

    :raises CtapError: CBOR_UNEXPECTED_TYPE.
    """
    value = params.get(key)
    if value is not None and not isinstance(value, kind):
        raise CtapError(ERR.CBOR_UNEXPECTED_TYPE)
    return value


def _required(params: Any, key: Any, kind: type[_T]) -> _T:
    """``params[key]``, of CBOR type ``kind``.

    :raises CtapError: MISSING_PARAMETER or CBOR_UNEXPECTED_TYPE.
    """
    if not isinstance(params, dict):
        raise CtapError(ERR.CBOR_UNEXPECTED_TYPE)
    value = _optional(params, key, kind)
    if value is None:
        raise CtapError(ERR.MISSING_PARAMETER)
    return value


def _ids(descriptors: list[Any]) -> list[bytes]:
    """The ids of the public-key credential descriptors in an allow or exclude list."""
    return [
        _required(descriptor, "id", bytes)
        for descriptor in descriptors
        if _required(descriptor, "type", str) == PublicKeyCredentialType.PUBLIC_KEY
    ]


class TouchingUser(UserInteraction):
    """The person at the key: touches it when asked and passes its built-in user verification
    (a fingerprint, say); has no PIN to type."""

    def prompt_up(self) -> None:
        """Touch the key: at once, so there is nothing to show."""

    def request_pin(self, permissions: Any, rp_id: str | None) -> str | None:
        return None

    def request_uv(self, permissions: Any, rp_id: str | None) -> bool:
        return True


class CtapKey:
    """An authenticator (see :mod:`virtual_authenticators.base`) that drives a CTAP2 device
    through python-fido2's ``Fido2Client``, one client per call, as a browser drives a key.

    The options JSON becomes python-fido2 1.x option objects built from decoded bytes (not
    ``from_dict``, whose reading depends on the global ``webauthn_json_mapping``); an RP ID the
    options leave out is the origin's host, as in a browser. Which user verification the key
    is asked for is the client's choice: with :class:`SoftCtapDevice`'s built-in UV, the UV flag
    is set when the options prefer or require it.

    :param device: the device; default a fresh :class:`SoftCtapDevice`.
    :param attestation: the default device's attestation format (default ``packed``).
    :param fault: the default device's fault, one of :data:`DEVICE_FAULTS`.
    :param transport: what the client reaches the device through, made from it once (such as
        :func:`virtual_authenticators.ctaphid.soft_hid_device`, USB HID framing); default the
        device itself.
    :param touch_timeout: seconds a request may wait for the user's touch before the client
        cancels it (:class:`~virtual_authenticators.base.TouchTimeoutError`); default no limit,
        for software devices, which are touched at once.
    :raises ValueError: ``attestation`` or ``fault`` with a device of your own (configure it
        instead), or a fault that lives in the client.
    """

    def __init__(
        self,
        device: CtapDevice | None = None,
        *,
        attestation: AttestationFormat | str | None = None,
        fault: Fault | None = None,
        transport: Callable[[CtapDevice], CtapDevice] | None = None,
        touch_timeout: float | None = None,
    ) -> None:
        if device is None:
            device = SoftCtapDevice(
                attestation=attestation or AttestationFormat.PACKED, fault=fault
            )
        elif attestation is not None or fault is not None:
            raise ValueError("attestation and fault are the default device's: configure yours")
        self.device = device
        self._reached = transport(device) if transport is not None else device
        self.touch_timeout = touch_timeout
        self.user_interaction: UserInteraction = TouchingUser()

    def __repr__(self) -> str:
        if isinstance(self.device, SoftCtapDevice):
            parts = ["software CTAP2 device", self.device.attestation.value]
        else:
            parts = [repr(self.device)]
        parts += [] if self._reached is self.device else ["over USB HID framing"]
        if isinstance(self.device, SoftCtapDevice):
            parts += [] if self.device.uv else ["no built-in UV"]
            parts += [str(self.device.fault)] if self.device.fault else []
        return f"CtapKey({', '.join(parts)})"

    @property
    def fault(self) -> Fault | None:
        """The software device's fault (``None`` for any other device); settable.

        :raises TypeError: set on a key with another device.
        """
        return self._software_device().fault if self._is_software() else None

    @fault.setter
    def fault(self, fault: Fault | None) -> None:
        self._software_device().fault = fault

    @property
    def credentials(self) -> tuple[bytes, ...]:
        """The ids of the credentials the software device holds, oldest first."""
        return self._software_device().credentials

    def sign_count(self, credential_id: bytes) -> int:
        """See :meth:`SoftCtapDevice.sign_count`."""
        return self._software_device().sign_count(credential_id)

    def set_sign_count(self, credential_id: bytes, count: int) -> None:
        """See :meth:`SoftCtapDevice.set_sign_count`."""
        self._software_device().set_sign_count(credential_id, count)

    def create(self, options: Mapping[str, Any], origin: str) -> dict[str, Any]:
        """See :meth:`virtual_authenticators.base.Authenticator.create`.

        :raises AuthenticatorError: any other refusal, named by its CTAP status.
        """
        creation = _creation_options(options, origin)
        registration, info = self._through_client(
            origin,
            lambda client, cancel: client.make_credential(creation, event=cancel),
            rp_id=creation.rp.id,
            offered=[param.alg for param in creation.pub_key_cred_params],
            excluded=[descriptor.id for descriptor in creation.exclude_credentials or []],
        )
        attestation = registration.attestation_object
        assert attestation.auth_data.credential_data is not None  # AT is set on registration
        return public_key_credential(
            attestation.auth_data.credential_data.credential_id,
            {
                "clientDataJSON": websafe_encode(registration.client_data),
                "attestationObject": websafe_encode(attestation),
                "transports": list(info.transports) or ["usb"],
            },
        )

    def get(self, options: Mapping[str, Any], origin: str) -> dict[str, Any]:
        """See :meth:`virtual_authenticators.base.Authenticator.get`.

        :raises AuthenticatorError: any other refusal, named by its CTAP status.
        """
        request = _request_options(options, origin)
        assertion, _ = self._through_client(
            origin,
            lambda client, cancel: client.get_assertion(request, event=cancel).get_response(0),
            rp_id=request.rp_id,
        )
        # python-fido2 1.x parses no assertion without its credential (CTAP 2.1 §6.2.2 lets a
        # key leave it out when the allowList named one): a key that does fails in the client.
        assert assertion.credential_id is not None
        user_handle = assertion.user_handle
        return public_key_credential(
            assertion.credential_id,
            {
                "clientDataJSON": websafe_encode(assertion.client_data),
                "authenticatorData": websafe_encode(assertion.authenticator_data),
                "signature": websafe_encode(assertion.signature),
                "userHandle": websafe_encode(user_handle) if user_handle else None,
            },
        )

    def _through_client(
        self,
        origin: str,
        ceremony: Callable[[Fido2Client, Event], _T],
        *,
        rp_id: str | None,
        offered: Sequence[int] = (),
        excluded: Sequence[bytes] = (),
    ) -> tuple[_T, Info]:
        """Run the ceremony on a new ``Fido2Client`` at ``origin``, with an event that cancels
        it after :attr:`touch_timeout`, and return its result and the device's getInfo.

        :raises AuthenticatorError: the client's error as :meth:`_refusal` maps it.
        """
        cancel = Event()
        timer = Timer(self.touch_timeout, cancel.set) if self.touch_timeout else None
        with _json_mapping_left_unset():
            # No client extensions: the index asks for none (so clientExtensionResults is
            # always {}), and python-fido2 1.2's default ones warn on every call.
            client = Fido2Client(
                self._reached, origin, extension_types=(), user_interaction=self.user_interaction
            )
            if timer is not None:
                timer.start()
            try:
                return ceremony(client, cancel), client.info
            except ClientError as error:
                if cancel.is_set() and self.touch_timeout:
                    raise TouchTimeoutError(self.touch_timeout) from error
                raise self._refusal(error, client.info, rp_id, offered, excluded) from error
            finally:
                if timer is not None:
                    timer.cancel()

    def _is_software(self) -> bool:
        return isinstance(self.device, SoftDevice)

    def _software_device(self) -> SoftDevice:
        if not isinstance(self.device, SoftDevice):
            raise TypeError(f"{self!r}: only a software device shows credentials, counts, faults")
        return self.device

    def _refusal(
        self,
        error: ClientError,
        info: Info,
        rp_id: str | None,
        offered: Sequence[int] = (),
        excluded: Sequence[bytes] = (),
    ) -> AuthenticatorError:
        """The base.py error for the client's, by the CTAP status behind it.

        python-fido2's CTAP1 (U2F) client raises DEVICE_INELIGIBLE with no status where a
        CTAP2 key answers CREDENTIAL_EXCLUDED or NO_CREDENTIALS, and UNSUPPORTED_OPTION for a
        request without ES256, the one algorithm of U2F.
        """
        status = error.cause.code if isinstance(error.cause, CtapError) else None
        u2f = "FIDO_2_0" not in info.versions
        if u2f and error.code == ClientError.ERR.DEVICE_INELIGIBLE and status is None:
            status = ERR.CREDENTIAL_EXCLUDED if excluded else ERR.NO_CREDENTIALS
        if u2f and status == ERR.UNSUPPORTED_OPTION and offered and ES256.ALGORITHM not in offered:
            status = ERR.UNSUPPORTED_ALGORITHM
        if status == ERR.CREDENTIAL_EXCLUDED and excluded:
            held = set(self.credentials) if self._is_software() else set()
            return ExcludedCredentialError(next((i for i in excluded if i in held), excluded[0]))
        if status == ERR.NO_CREDENTIALS:
            return NoCredentialError(rp_id or "")
        if status == ERR.UNSUPPORTED_ALGORITHM:
            algorithms = info.algorithms or ([] if not u2f else [{"alg": ES256.ALGORITHM}])
            supported = [algorithm["alg"] for algorithm in algorithms]
            return UnsupportedAlgorithmError(list(offered), supported)
        reason = status.name if status is not None else error.cause
        because = f" ({reason})" if reason else ""
        return AuthenticatorError(f"{self!r} refused: {error.code.name}{because}")


@contextmanager
def _json_mapping_left_unset() -> Iterator[None]:
    """Silence python-fido2 1.x's warning that the global ``webauthn_json_mapping`` is unset.

    It warns on every use of its option objects until a program chooses; the tests leave the
    global alone on purpose, and options built from bytes read the same either way.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Deprecated use of webauthn_json_mapping")
        yield


@_json_mapping_left_unset()
def _creation_options(
    options: Mapping[str, Any], origin: str
) -> PublicKeyCredentialCreationOptions:
    """``PublicKeyCredentialCreationOptionsJSON`` as python-fido2's option object."""
    selection = options.get("authenticatorSelection") or {}
    user = options["user"]
    return PublicKeyCredentialCreationOptions(
        rp=PublicKeyCredentialRpEntity(
            name=options["rp"]["name"], id=options["rp"].get("id") or origin_host(origin)
        ),
        user=PublicKeyCredentialUserEntity(
            name=user["name"],
            id=websafe_decode(user["id"]),
            display_name=user.get("displayName"),
        ),
        challenge=websafe_decode(options["challenge"]),
        pub_key_cred_params=[
            PublicKeyCredentialParameters(
                type=PublicKeyCredentialType(param["type"]), alg=param["alg"]
            )
            for param in options["pubKeyCredParams"]
        ],
        timeout=options.get("timeout"),
        exclude_credentials=_descriptors(options.get("excludeCredentials")),
        authenticator_selection=AuthenticatorSelectionCriteria(
            authenticator_attachment=AuthenticatorAttachment(
                selection.get("authenticatorAttachment")
            ),
            resident_key=ResidentKeyRequirement(selection.get("residentKey")),
            user_verification=UserVerificationRequirement(selection.get("userVerification")),
            require_resident_key=selection.get("requireResidentKey", False),
        ),
        attestation=AttestationConveyancePreference(options.get("attestation")),
    )


@_json_mapping_left_unset()
def _request_options(options: Mapping[str, Any], origin: str) -> PublicKeyCredentialRequestOptions:
    """``PublicKeyCredentialRequestOptionsJSON`` as python-fido2's option object."""
    return PublicKeyCredentialRequestOptions(
        challenge=websafe_decode(options["challenge"]),
        timeout=options.get("timeout"),
        rp_id=options.get("rpId") or origin_host(origin),
        allow_credentials=_descriptors(options.get("allowCredentials")),
        user_verification=UserVerificationRequirement(options.get("userVerification")),
    )


def _descriptors(
    descriptors: Sequence[Mapping[str, Any]] | None,
) -> list[PublicKeyCredentialDescriptor] | None:
    """``PublicKeyCredentialDescriptorJSON`` entries as python-fido2's descriptors."""
    return [
        PublicKeyCredentialDescriptor(
            type=PublicKeyCredentialType(descriptor["type"]), id=websafe_decode(descriptor["id"])
        )
        for descriptor in descriptors or []
    ] or None
