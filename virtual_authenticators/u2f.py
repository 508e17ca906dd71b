"""A software FIDO U2F security key: :class:`SoftU2fDevice` answers CTAP1/U2F request APDUs as a
U2F-only USB key does behind CTAPHID_MSG, with no CTAP2 at all, like the seed's keys.

It implements python-fido2's abstract ``CtapDevice`` for the one command U2F has: given an
ISO 7816-4 command APDU, :meth:`SoftU2fDevice.call` answers the response data and the status
word. So python-fido2's ``Ctap1``, and the CTAP1 backend ``Fido2Client`` falls back to for a
device without the CBOR capability, drive it as they drive a real U2F key, either directly or
through :func:`virtual_authenticators.ctaphid.soft_hid_device` (USB HID framing). The client
then builds the WebAuthn structures from the U2F answers: ``fido-u2f`` attestation, and
authenticator data whose rpIdHash and flags the client fills in itself.

Section numbers are those of FIDO U2F Raw Message Formats v1.2: §3 (framing of request and
response messages, status words), §4 (U2F_REGISTER), §5 (U2F_AUTHENTICATE), §6.1
(U2F_VERSION). Both APDU encodings are taken: extended length, as python-fido2's
``Ctap1.send_apdu`` sends (``CLA INS P1 P2 00 Lc1 Lc2 data 00 00``, with ``Lc`` 0 and no data
for U2F_VERSION), and short (``CLA INS P1 P2 Lc data [Le]``), as NFC readers and some clients
send.
"""

from __future__ import annotations

import datetime
import enum
import functools
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from threading import Event

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fido2.ctap import STATUS, CtapError
from fido2.ctap1 import APDU, ApduError, Ctap1
from fido2.hid import CAPABILITY, CTAPHID
from fido2.utils import sha256

from virtual_authenticators.device import SoftDevice
from virtual_authenticators.faulty import FOREIGN_HOST, Fault, flip_bit, reported_count

ERR = CtapError.ERR
INS = Ctap1.INS

VERSION = b"U2F_V2"
"""What U2F_VERSION answers (§6.1): the only version the specification defines."""

KEY_HANDLE_LENGTH = 64

TOUCH_ONLY_APPLICATION = bytes(32)
"""The application parameter of a registration a client makes only to wait for a touch (CTAP
2.1 §10.3, on an excluded credential; python-fido2's ``selection`` too): it stands for no site,
so the credential is not kept."""
_DER = serialization.Encoding.DER
ATTESTATION_COMMON_NAME = "pypi-2fa harness soft U2F key"

U2F_DEVICE_FAULTS = frozenset(
    {
        Fault.WRONG_RP_ID_HASH,
        Fault.UP_CLEARED,
        Fault.COUNTER_BACKWARDS,
        Fault.COUNTER_FROZEN,
        Fault.BAD_SIGNATURE,
    }
)
"""The faults a U2F key can have, and what each means in U2F:

- :attr:`~Fault.WRONG_RP_ID_HASH`: the key signs over the application parameter of
  :data:`~virtual_authenticators.faulty.FOREIGN_HOST` instead of the one sent, in registration
  and authentication alike. In U2F the client builds authenticatorData's rpIdHash itself, from
  the application parameter it sent, so this shows only as a signature the relying party
  cannot verify.
- :attr:`~Fault.UP_CLEARED`: the user-presence byte of every authentication is 0. Registration
  has no flags in U2F: the client sets UP.
- :attr:`~Fault.COUNTER_BACKWARDS`, :attr:`~Fault.COUNTER_FROZEN`: the counter an
  authentication reports, as :func:`~virtual_authenticators.faulty.reported_count` says.
- :attr:`~Fault.BAD_SIGNATURE`: one bit flipped in every signature, the registration's
  (attestation) and the authentication's.

The others live in the client (client data, the credential named, replays), or have no U2F
form: U2F has no UV flag and only ES256 keys.
"""


@enum.unique
class SW(enum.IntEnum):
    """The status words of §3.3 that python-fido2's ``APDU`` lacks (it has OK,
    USE_NOT_SATISFIED and WRONG_DATA)."""

    WRONG_LENGTH = 0x6700
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00


@enum.unique
class Control(enum.IntEnum):
    """U2F_AUTHENTICATE's control byte, P1 (§5.1)."""

    CHECK_ONLY = 0x07
    ENFORCE_USER_PRESENCE_AND_SIGN = 0x03
    DONT_ENFORCE_USER_PRESENCE_AND_SIGN = 0x08


@dataclass
class _Credential:
    """What a key handle stands for: the key pair, the application parameter it was
    registered for, and its counter."""

    private_key: ec.EllipticCurvePrivateKey
    application: bytes
    sign_count: int = 0


@dataclass(frozen=True)
class _Command:
    """A command APDU's header and data."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes


class SoftU2fDevice(SoftDevice):
    """A FIDO U2F-only USB key in software; the user touches it at once.

    U2F_REGISTER makes a P-256 key pair and a key handle of 64 random bytes standing for it,
    and answers with the attestation certificate of :func:`attestation_certificate` and its
    signature. U2F_AUTHENTICATE with a key handle held for that application parameter: check-only
    answers USE_NOT_SATISFIED (0x6985), as §5.1 says for a known handle; the two signing modes
    sign with presence byte 1 (enforce-user-presence) or 0 (dont-enforce). A handle not held,
    or held for another application parameter, is WRONG_DATA (0x6A80).

    Each credential's counter starts at 0 and rises by one per signed authentication, in both
    signing modes, since each is a use of the key (§5.2: the counter counts authentication
    operations); check-only signs nothing and does not count. Every registration is kept in
    :attr:`credentials` but those for :data:`TOUCH_ONLY_APPLICATION`, which a client makes
    only to wait for a touch (python-fido2's does when an excluded credential is held, and for
    ``selection``).

    :param fault: one of :data:`U2F_DEVICE_FAULTS`, or ``None``; an attribute that may be set
        later.
    :raises ValueError: the fault is not one a U2F key can have.
    """

    FAULTS = U2F_DEVICE_FAULTS

    def __init__(self, *, fault: Fault | None = None) -> None:
        self.fault = fault
        self._credentials: dict[bytes, _Credential] = {}

    def __repr__(self) -> str:
        fault = self.fault
        return f"SoftU2fDevice({fault=})"

    def _refusal_of(self, fault: Fault) -> str:
        return (
            f"a U2F key cannot have {fault}: it lives in the client, or U2F has no such"
            " field (no UV flag, ES256 only); see U2F_DEVICE_FAULTS"
        )

    @property
    def capabilities(self) -> int:
        """Neither CBOR nor NMSG: a U2F-only key, which speaks CTAPHID_MSG and not
        CTAPHID_CBOR. WINK is the HID transport's to report, and
        :class:`~virtual_authenticators.ctaphid.SoftHidConnection` adds it."""
        return CAPABILITY(0)

    @property
    def credentials(self) -> tuple[bytes, ...]:
        """The key handles held, oldest first."""
        return tuple(self._credentials)

    def sign_count(self, key_handle: bytes) -> int:
        """The counter the credential last reported.

        :raises KeyError: the device does not hold it.
        """
        return self._credentials[key_handle].sign_count

    def set_sign_count(self, key_handle: bytes, count: int) -> None:
        """Set the credential's counter, e.g. to stand for a key used elsewhere before.

        :raises KeyError: the device does not hold it.
        :raises ValueError: the count does not fit the 32-bit field.
        """
        credential = self._credentials[key_handle]
        if not 0 <= count < 2**32:
            raise ValueError(f"sign count {count} does not fit in 32 bits")
        credential.sign_count = count

    def call(
        self,
        cmd: int,
        data: bytes = b"",
        event: Event | None = None,
        on_keepalive: Callable[[STATUS], None] | None = None,
    ) -> bytes:
        """Answer one CTAPHID_MSG message: a command APDU, answered with the response data and
        the status word, refusals included, as a U2F key answers.

        ``on_keepalive`` is never called: U2F has no keep-alives (a key wanting a touch answers
        USE_NOT_SATISFIED at once and the client asks again, and this user touches at once).
        ``event`` is not looked at: U2F has no cancelled request, since none waits, so a request
        whose event is already set is answered normally.

        :param cmd: the CTAPHID command; only CTAPHID_MSG is spoken.
        :param data: the command APDU.
        :raises CtapError: INVALID_COMMAND for any CTAPHID command but MSG (CTAPHID_ERROR).
        :raises AuthenticatorError: :attr:`Fault.COUNTER_BACKWARDS` from a count of 0.
        """
        if cmd != CTAPHID.MSG:
            raise CtapError(ERR.INVALID_COMMAND)
        try:
            return self._respond(_command(data)) + struct.pack(">H", APDU.OK)
        except ApduError as refusal:
            return struct.pack(">H", refusal.code)

    def _respond(self, command: _Command) -> bytes:
        """The response data of a command the key accepts.

        :raises ApduError: the status word of one it refuses.
        """
        if command.cla != 0:
            raise ApduError(SW.CLA_NOT_SUPPORTED)
        match command.ins:
            case INS.REGISTER:
                return self._register(command.data)
            case INS.AUTHENTICATE:
                return self._authenticate(command.p1, command.data)
            case INS.VERSION:
                if command.data:
                    raise ApduError(SW.WRONG_LENGTH)
                return VERSION
        raise ApduError(SW.INS_NOT_SUPPORTED)

    def _register(self, data: bytes) -> bytes:
        """§4: a new credential, attested; P1 and P2 are not looked at (clients differ)."""
        if len(data) != 64:
            raise ApduError(SW.WRONG_LENGTH)
        challenge, application = data[:32], data[32:]
        private_key = ec.generate_private_key(ec.SECP256R1())
        key_handle = os.urandom(KEY_HANDLE_LENGTH)
        public_key = private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        attestation_key, certificate = _attestation()
        signed = b"\0" + self._signed_application(application) + challenge + key_handle
        signature = self._sign(attestation_key, signed + public_key)
        if application != TOUCH_ONLY_APPLICATION:
            self._credentials[key_handle] = _Credential(private_key, application)
        handle = bytes([len(key_handle)]) + key_handle
        return b"\x05" + public_key + handle + certificate.public_bytes(_DER) + signature

    def _authenticate(self, control: int, data: bytes) -> bytes:
        """§5: a signature by the credential the key handle stands for; a control byte §5.1
        does not define is WRONG_DATA, as an unknown key handle is."""
        if len(data) < 65 or len(data) != 65 + data[64]:
            raise ApduError(SW.WRONG_LENGTH)
        challenge, application, key_handle = data[:32], data[32:64], data[65:]
        try:
            control = Control(control)
        except ValueError:
            raise ApduError(APDU.WRONG_DATA) from None
        credential = self._credentials.get(key_handle)
        if credential is None or credential.application != application:
            raise ApduError(APDU.WRONG_DATA)
        if control == Control.CHECK_ONLY:
            raise ApduError(APDU.USE_NOT_SATISFIED)
        present = control == Control.ENFORCE_USER_PRESENCE_AND_SIGN
        if self.fault is Fault.UP_CLEARED:
            present = False
        credential.sign_count = reported_count(credential.sign_count, self.fault)
        answer = struct.pack(">BI", present, credential.sign_count)
        signed = self._signed_application(application) + answer + challenge
        return answer + self._sign(credential.private_key, signed)

    def _signed_application(self, application: bytes) -> bytes:
        """The application parameter the key signs over: the one sent, or with
        :attr:`Fault.WRONG_RP_ID_HASH` that of :data:`FOREIGN_HOST`."""
        if self.fault is Fault.WRONG_RP_ID_HASH:
            return sha256(FOREIGN_HOST.encode())
        return application

    def _sign(self, key: ec.EllipticCurvePrivateKey, message: bytes) -> bytes:
        """An ECDSA-SHA256 signature, DER-encoded; with :attr:`Fault.BAD_SIGNATURE` one bit of
        it flipped."""
        signature = key.sign(message, ec.ECDSA(hashes.SHA256()))
        return flip_bit(signature) if self.fault is Fault.BAD_SIGNATURE else signature


def attestation_certificate() -> x509.Certificate:
    """The certificate every :class:`SoftU2fDevice` of this process attests with.

    Self-signed, P-256, subject CN :data:`ATTESTATION_COMMON_NAME`, valid from 2020 to 2049: a
    ``fido-u2f`` statement is basic attestation in form, but no trusted root vouches for this
    certificate, so it proves nothing about the key. The index checks no attestation chain.
    """
    return _attestation()[1]


@functools.cache
def _attestation() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """The attestation key and certificate, made once per process (a P-256 key is cheap, but
    real keys share one batch certificate too)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ATTESTATION_COMMON_NAME)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
        # UTCTime's last year: the certificate stays valid for as long as the harness runs.
        .not_valid_after(datetime.datetime(2049, 12, 31, 23, 59, 59, tzinfo=datetime.UTC))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def _command(apdu: bytes) -> _Command:
    """The command APDU's header and data, in short or extended encoding (§3.1, ISO 7816-4).

    :raises ApduError: WRONG_LENGTH for an APDU that fits neither encoding.
    """
    if len(apdu) < 4:
        raise ApduError(SW.WRONG_LENGTH)
    cla, ins, p1, p2 = apdu[:4]
    return _Command(cla, ins, p1, p2, _data(apdu[4:]))


def _data(body: bytes) -> bytes:
    """The data of a command APDU's body: what follows the header.

    :raises ApduError: WRONG_LENGTH for a body that fits neither encoding.
    """
    if len(body) <= 1:  # no body, or a short Le alone
        return b""
    if body[0] == 0:  # extended: a zero byte, then Lc (or Le, with no data) in two bytes
        if len(body) < 3:
            raise ApduError(SW.WRONG_LENGTH)
        if len(body) == 3:
            return b""
        length, rest = int.from_bytes(body[1:3], "big"), body[3:]
        expected_le = 2
    else:
        length, rest = body[0], body[1:]
        expected_le = 1
    # python-fido2 sends Lc 0 and Le for no data; that reads as zero bytes of data then Le.
    if len(rest) not in (length, length + expected_le):
        raise ApduError(SW.WRONG_LENGTH)
    return rest[:length]
