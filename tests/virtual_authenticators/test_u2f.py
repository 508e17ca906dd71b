"""The software U2F key: request APDUs through python-fido2's ``Ctap1`` (directly, and over the
real ``CtapHidDevice``), then whole WebAuthn ceremonies through ``Fido2Client``'s CTAP1 backend
against ``Fido2Server``, then each fault against its honest twin."""

from __future__ import annotations

import os
import struct
import threading
from dataclasses import dataclass, field

import pytest
import webauthn
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fido2.attestation import FidoU2FAttestation, InvalidSignature
from fido2.client import ClientError, Fido2Client
from fido2.ctap import CtapError
from fido2.ctap1 import APDU, ApduError, Ctap1, RegistrationData, SignatureData
from fido2.hid import CAPABILITY, CTAPHID
from fido2.server import Fido2Server
from fido2.utils import sha256, websafe_decode
from fido2.webauthn import (
    AttestationObject,
    AttestedCredentialData,
    AuthenticatorAssertionResponse,
    AuthenticatorData,
)

from virtual_authenticators.base import AuthenticatorError
from virtual_authenticators.ctap import CtapKey
from virtual_authenticators.ctaphid import soft_hid_device
from virtual_authenticators.faulty import FOREIGN_HOST, Fault, flip_bit
from virtual_authenticators.u2f import (
    ATTESTATION_COMMON_NAME,
    KEY_HANDLE_LENGTH,
    SW,
    U2F_DEVICE_FAULTS,
    VERSION,
    Control,
    SoftU2fDevice,
    attestation_certificate,
)

from .ceremonies import authenticate, register

RP_ID = "example.com"
ORIGIN = "https://example.com"
APP_PARAM = sha256(RP_ID.encode())
OTHER_APP_PARAM = sha256(b"other.example")
USER = {"id": b"user-1", "name": "alice", "displayName": "Alice"}

REGISTRATION_FAULTS = [Fault.BAD_SIGNATURE, Fault.WRONG_RP_ID_HASH]
ASSERTION_REFUSALS = {
    Fault.BAD_SIGNATURE: "Invalid signature",
    Fault.WRONG_RP_ID_HASH: "Invalid signature",
    Fault.UP_CLEARED: "User Present flag not set",
}
COUNTER_FAULTS = [Fault.COUNTER_BACKWARDS, Fault.COUNTER_FROZEN]


def apdu(ins: int, data: bytes = b"", *, cla: int = 0, p1: int = 0, p2: int = 0) -> bytes:
    """A command APDU in extended encoding, byte for byte as ``Ctap1.send_apdu`` builds it."""
    return struct.pack(">BBBBBH", cla, ins, p1, p2, 0, len(data)) + data + b"\0\0"


def status(response: bytes) -> int:
    return struct.unpack(">H", response[-2:])[0]


def authentication_data(key_handle: bytes, app_param: bytes = APP_PARAM) -> bytes:
    return os.urandom(32) + app_param + bytes([len(key_handle)]) + key_handle


@pytest.fixture
def device() -> SoftU2fDevice:
    return SoftU2fDevice()


@pytest.fixture(params=["directly", "over HID"])
def ctap1(request: pytest.FixtureRequest, device: SoftU2fDevice) -> Ctap1:
    """``Ctap1`` on the device itself, or on a real ``CtapHidDevice`` in front of it."""
    return Ctap1(device if request.param == "directly" else soft_hid_device(device))


def registered(ctap1: Ctap1, app_param: bytes = APP_PARAM) -> RegistrationData:
    return ctap1.register(os.urandom(32), app_param)


def verify_u2f_statement(attestation_object: AttestationObject, client_data_hash: bytes) -> None:
    FidoU2FAttestation().verify(
        attestation_object.att_stmt, attestation_object.auth_data, client_data_hash
    )


@dataclass
class U2fRelyingParty:
    """``Fido2Server`` for :data:`RP_ID` that verifies ``fido-u2f`` attestation statements,
    with the credentials it has registered."""

    server: Fido2Server = field(
        default_factory=lambda: Fido2Server(
            {"id": RP_ID, "name": "Example"},
            attestation="direct",
            verify_attestation=verify_u2f_statement,
        )
    )
    credentials: list[AttestedCredentialData] = field(default_factory=list)

    def register(self, client: Fido2Client) -> AuthenticatorData:
        options, state = self.server.register_begin(USER, self.credentials)
        response = client.make_credential(options.public_key)
        auth_data = self.server.register_complete(
            state, response.client_data, response.attestation_object
        )
        assert auth_data.credential_data is not None
        self.credentials.append(auth_data.credential_data)
        return auth_data

    def assertion(self, client: Fido2Client) -> tuple[object, AuthenticatorAssertionResponse]:
        """The server's state and an assertion for it, not verified."""
        options, state = self.server.authenticate_begin(self.credentials)
        return state, client.get_assertion(options.public_key).get_response(0)

    def authenticate(self, client: Fido2Client) -> AuthenticatorData:
        """An assertion, verified; its authenticator data.

        :raises ValueError: ``Fido2Server`` refused it.
        """
        state, response = self.assertion(client)
        self.server.authenticate_complete(
            state,
            self.credentials,
            response.credential_id,
            response.client_data,
            response.authenticator_data,
            response.signature,
        )
        return response.authenticator_data


def client_for(device: SoftU2fDevice) -> Fido2Client:
    """A client at :data:`ORIGIN` in front of the device over USB HID framing."""
    return Fido2Client(soft_hid_device(device), ORIGIN)


# APDUs through Ctap1


def test_the_version_is_u2f_v2(ctap1):
    assert ctap1.get_version() == "U2F_V2"


def test_a_registration_verifies_with_the_attestation_certificate(ctap1):
    client_param = os.urandom(32)

    registration = ctap1.register(client_param, APP_PARAM)

    registration.verify(APP_PARAM, client_param)


def test_a_key_handle_is_64_bytes(ctap1):
    assert len(registered(ctap1).key_handle) == KEY_HANDLE_LENGTH


def test_the_attestation_certificate_is_the_self_signed_p256_harness_certificate(ctap1):
    certificate = x509.load_der_x509_certificate(registered(ctap1).certificate)

    assert certificate == attestation_certificate()
    assert certificate.issuer == certificate.subject
    common_name = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    assert common_name[0].value == ATTESTATION_COMMON_NAME
    public_key = certificate.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    assert isinstance(public_key.curve, ec.SECP256R1)


def test_an_authentication_verifies_with_the_registered_public_key(ctap1):
    registration, client_param = registered(ctap1), os.urandom(32)

    signature = ctap1.authenticate(client_param, APP_PARAM, registration.key_handle)

    signature.verify(APP_PARAM, client_param, registration.public_key)
    assert signature.user_presence == 1


def test_each_authentication_raises_the_counter_by_one(ctap1):
    key_handle = registered(ctap1).key_handle

    counters = [ctap1.authenticate(os.urandom(32), APP_PARAM, key_handle).counter for _ in "ab"]

    assert counters == [1, 2]


def test_check_only_with_a_held_key_handle_is_use_not_satisfied(ctap1):
    key_handle = registered(ctap1).key_handle

    with pytest.raises(ApduError) as error:
        ctap1.authenticate(os.urandom(32), APP_PARAM, key_handle, check_only=True)

    assert error.value.code == APDU.USE_NOT_SATISFIED


def test_check_only_with_another_applications_key_handle_is_wrong_data(ctap1):
    key_handle = registered(ctap1, OTHER_APP_PARAM).key_handle

    with pytest.raises(ApduError) as error:
        ctap1.authenticate(os.urandom(32), APP_PARAM, key_handle, check_only=True)

    assert error.value.code == APDU.WRONG_DATA


def test_signing_with_another_applications_key_handle_is_wrong_data(ctap1):
    key_handle = registered(ctap1, OTHER_APP_PARAM).key_handle

    with pytest.raises(ApduError) as error:
        ctap1.authenticate(os.urandom(32), APP_PARAM, key_handle)

    assert error.value.code == APDU.WRONG_DATA


def test_a_key_handle_never_issued_is_wrong_data(ctap1):
    with pytest.raises(ApduError) as error:
        ctap1.authenticate(os.urandom(32), APP_PARAM, os.urandom(KEY_HANDLE_LENGTH))

    assert error.value.code == APDU.WRONG_DATA


def test_check_only_does_not_count_as_a_use(ctap1, device):
    key_handle = registered(ctap1).key_handle

    with pytest.raises(ApduError):
        ctap1.authenticate(os.urandom(32), APP_PARAM, key_handle, check_only=True)

    assert device.sign_count(key_handle) == 0


def test_dont_enforce_user_presence_signs_with_presence_0_and_counts_as_a_use(ctap1):
    registration, data = registered(ctap1), os.urandom(32)
    request = data + APP_PARAM + bytes([KEY_HANDLE_LENGTH]) + registration.key_handle

    signature = SignatureData(
        ctap1.send_apdu(
            ins=Ctap1.INS.AUTHENTICATE,
            p1=Control.DONT_ENFORCE_USER_PRESENCE_AND_SIGN,
            data=request,
        )
    )

    signature.verify(APP_PARAM, data, registration.public_key)
    assert (signature.user_presence, signature.counter) == (0, 1)


def test_a_control_byte_u2f_does_not_define_is_wrong_data(ctap1):
    key_handle = registered(ctap1).key_handle

    with pytest.raises(ApduError) as error:
        ctap1.send_apdu(ins=Ctap1.INS.AUTHENTICATE, p1=0x05, data=authentication_data(key_handle))

    assert error.value.code == APDU.WRONG_DATA


# Raw APDUs


def test_an_unknown_instruction_is_ins_not_supported(ctap1):
    assert ctap1.device.call(CTAPHID.MSG, apdu(0x40)) == struct.pack(">H", SW.INS_NOT_SUPPORTED)


def test_a_class_byte_other_than_0_is_cla_not_supported(ctap1):
    response = ctap1.device.call(CTAPHID.MSG, apdu(Ctap1.INS.VERSION, cla=0x80))

    assert status(response) == SW.CLA_NOT_SUPPORTED


@pytest.mark.parametrize(
    "request_apdu",
    [b"\0\x03\0\0", b"\0\x03\0\0\0", b"\0\x03\0\0\0\0\0"],
    ids=["no body", "short Le", "extended Le"],
)
def test_a_version_request_without_lc_is_answered(ctap1, request_apdu):
    assert ctap1.device.call(CTAPHID.MSG, request_apdu) == VERSION + b"\x90\x00"


def test_a_short_encoded_registration_is_answered(ctap1):
    client_param = os.urandom(32)
    request = b"\0\x01\0\0\x40" + client_param + APP_PARAM + b"\0"

    response = ctap1.device.call(CTAPHID.MSG, request)

    assert status(response) == APDU.OK
    RegistrationData(response[:-2]).verify(APP_PARAM, client_param)


def test_a_short_encoded_authentication_is_answered(ctap1):
    registration, client_param = registered(ctap1), os.urandom(32)
    data = client_param + APP_PARAM + bytes([KEY_HANDLE_LENGTH]) + registration.key_handle
    request = bytes([0, Ctap1.INS.AUTHENTICATE, Control.ENFORCE_USER_PRESENCE_AND_SIGN, 0])

    response = ctap1.device.call(CTAPHID.MSG, request + bytes([len(data)]) + data)

    assert status(response) == APDU.OK
    SignatureData(response[:-2]).verify(APP_PARAM, client_param, registration.public_key)


@pytest.mark.parametrize("length", [0, 63, 65])
def test_a_registration_with_other_than_64_bytes_of_data_is_wrong_length(ctap1, length):
    response = ctap1.device.call(CTAPHID.MSG, apdu(Ctap1.INS.REGISTER, bytes(length)))

    assert status(response) == SW.WRONG_LENGTH


def test_an_authentication_whose_key_handle_length_disagrees_with_it_is_wrong_length(ctap1):
    key_handle = registered(ctap1).key_handle
    data = authentication_data(key_handle)[:-1]

    response = ctap1.device.call(
        CTAPHID.MSG, apdu(Ctap1.INS.AUTHENTICATE, data, p1=Control.CHECK_ONLY)
    )

    assert status(response) == SW.WRONG_LENGTH


def test_an_authentication_too_short_for_its_parameters_is_wrong_length(ctap1):
    response = ctap1.device.call(CTAPHID.MSG, apdu(Ctap1.INS.AUTHENTICATE, bytes(64), p1=3))

    assert status(response) == SW.WRONG_LENGTH


def test_a_version_request_with_data_is_wrong_length(ctap1):
    response = ctap1.device.call(CTAPHID.MSG, apdu(Ctap1.INS.VERSION, b"?"))

    assert status(response) == SW.WRONG_LENGTH


@pytest.mark.parametrize(
    "request_apdu",
    [
        b"\0\x03\0",
        b"\0\x01\0\0\0\0\x0a" + bytes(5),
        b"\0\x01\0\0\0\0\x02" + bytes(5),
        b"\0\x01\0\0\x0a" + bytes(5),
        b"\0\x01\0\0\x02" + bytes(5),
        b"\0\x03\0\0\0\0",
    ],
    ids=[
        "shorter than a header",
        "extended Lc above the data",
        "extended Lc below the data",
        "short Lc above the data",
        "short Lc below the data",
        "zero and one byte",
    ],
)
def test_an_apdu_that_fits_neither_encoding_is_wrong_length(ctap1, request_apdu):
    assert ctap1.device.call(CTAPHID.MSG, request_apdu) == struct.pack(">H", SW.WRONG_LENGTH)


# The device's own interface


def test_the_device_has_neither_cbor_nor_nmsg(device):
    assert device.capabilities & (CAPABILITY.CBOR | CAPABILITY.NMSG) == 0


def test_the_hid_device_reports_wink_and_neither_cbor_nor_nmsg(device):
    capabilities = soft_hid_device(device).capabilities

    assert capabilities & (CAPABILITY.WINK | CAPABILITY.CBOR | CAPABILITY.NMSG) == CAPABILITY.WINK


def test_a_ctaphid_command_other_than_msg_is_invalid_command(device):
    with pytest.raises(CtapError) as error:
        device.call(CTAPHID.CBOR, b"\x04")

    assert error.value.code == CtapError.ERR.INVALID_COMMAND


def test_a_request_whose_event_is_already_set_is_answered_as_usual(device):
    cancelled = threading.Event()
    cancelled.set()

    assert device.call(CTAPHID.MSG, apdu(Ctap1.INS.VERSION), cancelled) == VERSION + b"\x90\x00"


def test_the_device_sends_no_keepalives(device):
    statuses = []

    Ctap1(device).register(os.urandom(32), APP_PARAM)
    device.call(CTAPHID.MSG, apdu(Ctap1.INS.VERSION), on_keepalive=statuses.append)

    assert statuses == []


def test_credentials_are_the_key_handles_held_oldest_first(device):
    handles = [registered(Ctap1(device)).key_handle for _ in "ab"]

    assert device.credentials == tuple(handles)


def test_a_set_sign_count_is_the_next_authentications_base(device):
    key_handle = registered(Ctap1(device)).key_handle

    device.set_sign_count(key_handle, 41)

    assert Ctap1(device).authenticate(os.urandom(32), APP_PARAM, key_handle).counter == 42
    assert device.sign_count(key_handle) == 42


def test_the_sign_count_of_a_key_handle_not_held_is_a_key_error(device):
    with pytest.raises(KeyError):
        device.sign_count(b"not held")
    with pytest.raises(KeyError):
        device.set_sign_count(b"not held", 1)


def test_a_sign_count_beyond_32_bits_is_a_value_error(device):
    key_handle = registered(Ctap1(device)).key_handle

    with pytest.raises(ValueError, match="32 bits"):
        device.set_sign_count(key_handle, 2**32)


def test_a_soft_device_lists_no_devices():
    assert list(SoftU2fDevice.list_devices()) == []


def test_the_repr_names_the_fault():
    assert (
        repr(SoftU2fDevice(fault=Fault.UP_CLEARED)) == f"SoftU2fDevice(fault={Fault.UP_CLEARED!r})"
    )


@pytest.mark.parametrize("fault", sorted(set(Fault) - U2F_DEVICE_FAULTS, key=lambda f: f.value))
def test_a_fault_a_u2f_key_cannot_have_is_a_value_error(fault):
    with pytest.raises(ValueError, match="U2F key cannot have"):
        SoftU2fDevice(fault=fault)
    with pytest.raises(ValueError, match="U2F key cannot have"):
        SoftU2fDevice().fault = fault


# Whole ceremonies through Fido2Client's CTAP1 backend


def test_the_client_speaks_ctap1_to_the_device(device):
    assert client_for(device).info.versions == ["U2F_V2"]


def test_a_registration_through_the_client_is_fido_u2f_and_its_statement_verifies(device):
    options, _ = U2fRelyingParty().server.register_begin(USER)
    response = client_for(device).make_credential(options.public_key)
    attestation = response.attestation_object

    assert attestation.fmt == "fido-u2f"
    verify_u2f_statement(attestation, response.client_data.hash)


def test_a_registration_through_the_client_is_accepted(device):
    auth_data = U2fRelyingParty().register(client_for(device))

    assert auth_data.credential_data is not None
    assert auth_data.credential_data.credential_id == device.credentials[0]
    assert auth_data.is_user_present()


def test_an_authentication_through_the_client_is_accepted(device):
    relying_party, client = U2fRelyingParty(), client_for(device)
    relying_party.register(client)

    auth_data = relying_party.authenticate(client)

    assert auth_data.is_user_present()
    assert auth_data.counter == 1


def test_registering_again_while_holding_an_excluded_credential_is_device_ineligible(device):
    relying_party, client = U2fRelyingParty(), client_for(device)
    relying_party.register(client)

    with pytest.raises(ClientError) as error:
        relying_party.register(client)

    assert error.value.code == ClientError.ERR.DEVICE_INELIGIBLE


def test_a_ctap_key_over_hid_registers_and_authenticates_with_a_u2f_device(relying_party):
    key = CtapKey(soft_hid_device(SoftU2fDevice()))

    register(key, relying_party)

    assert authenticate(key, relying_party)


def test_py_webauthn_accepts_the_fido_u2f_registration(relying_party):
    key = CtapKey(soft_hid_device(SoftU2fDevice()))
    options, _ = relying_party.registration_options()

    verified = webauthn.verify_registration_response(
        credential=key.create(options, relying_party.origin),
        expected_challenge=websafe_decode(options["challenge"]),
        expected_origin=relying_party.origin,
        expected_rp_id="localhost",
    )

    assert verified.fmt == "fido-u2f"


# Each fault against its honest twin: the same steps, with fault None


def test_every_u2f_device_fault_is_checked_below():
    checked = {*REGISTRATION_FAULTS, *ASSERTION_REFUSALS, *COUNTER_FAULTS}

    assert checked == U2F_DEVICE_FAULTS


@pytest.mark.parametrize("fault", REGISTRATION_FAULTS)
def test_a_faulty_keys_registration_statement_does_not_verify(fault):
    with pytest.raises(InvalidSignature):
        U2fRelyingParty().register(client_for(SoftU2fDevice(fault=fault)))


def test_the_honest_twins_registration_statement_verifies():
    U2fRelyingParty().register(client_for(SoftU2fDevice(fault=None)))


@pytest.mark.parametrize("fault", list(ASSERTION_REFUSALS))
def test_a_faulty_keys_assertion_is_refused_for_its_fault(fault):
    device = SoftU2fDevice()
    relying_party, client = U2fRelyingParty(), client_for(device)
    relying_party.register(client)
    device.fault = fault

    with pytest.raises(ValueError, match=ASSERTION_REFUSALS[fault]):
        relying_party.authenticate(client)


def test_the_honest_twins_assertion_is_accepted():
    device = SoftU2fDevice()
    relying_party, client = U2fRelyingParty(), client_for(device)
    relying_party.register(client)
    device.fault = None

    relying_party.authenticate(client)


def test_wrong_rp_id_hash_signs_a_registration_for_the_foreign_hosts_application():
    client_param = os.urandom(32)

    registration = Ctap1(SoftU2fDevice(fault=Fault.WRONG_RP_ID_HASH)).register(
        client_param, APP_PARAM
    )

    registration.verify(sha256(FOREIGN_HOST.encode()), client_param)
    with pytest.raises(InvalidSignature):
        registration.verify(APP_PARAM, client_param)


def test_wrong_rp_id_hash_signs_an_authentication_for_the_foreign_hosts_application():
    device = SoftU2fDevice()
    registration, client_param = registered(Ctap1(device)), os.urandom(32)
    device.fault = Fault.WRONG_RP_ID_HASH

    signature = Ctap1(device).authenticate(client_param, APP_PARAM, registration.key_handle)

    signature.verify(sha256(FOREIGN_HOST.encode()), client_param, registration.public_key)


def test_a_bad_signature_verifies_with_its_bit_flipped_back():
    device = SoftU2fDevice()
    registration, client_param = registered(Ctap1(device)), os.urandom(32)
    device.fault = Fault.BAD_SIGNATURE

    signature = Ctap1(device).authenticate(client_param, APP_PARAM, registration.key_handle)

    SignatureData(flip_bit(bytes(signature))).verify(
        APP_PARAM, client_param, registration.public_key
    )


def test_up_cleared_reports_presence_0_when_presence_was_enforced():
    device = SoftU2fDevice()
    key_handle = registered(Ctap1(device)).key_handle
    device.fault = Fault.UP_CLEARED

    assert Ctap1(device).authenticate(os.urandom(32), APP_PARAM, key_handle).user_presence == 0


@pytest.mark.parametrize("fault", [Fault.UP_CLEARED, None], ids=["up-cleared", "honest twin"])
def test_the_assertions_up_flag_is_what_the_key_reported(fault):
    device = SoftU2fDevice()
    relying_party, client = U2fRelyingParty(), client_for(device)
    relying_party.register(client)
    device.fault = fault

    _, response = relying_party.assertion(client)

    assert response.authenticator_data.is_user_present() is (fault is None)


def assertion_counters(fault: Fault | None, start: int = 5) -> list[int]:
    """The counters of two assertions through the client, the credential's count set to
    ``start`` and then the fault set."""
    device = SoftU2fDevice()
    relying_party, client = U2fRelyingParty(), client_for(device)
    relying_party.register(client)
    device.set_sign_count(device.credentials[0], start)
    device.fault = fault
    return [relying_party.authenticate(client).counter for _ in "ab"]


def test_a_counter_going_backwards_decreases():
    assert assertion_counters(Fault.COUNTER_BACKWARDS) == [4, 3]


def test_a_frozen_counter_stays_the_same():
    assert assertion_counters(Fault.COUNTER_FROZEN, start=0) == [1, 1]


@pytest.mark.parametrize("start", [0, 5])
def test_the_honest_twins_counter_rises_by_one(start):
    assert assertion_counters(None, start) == [start + 1, start + 2]


def test_a_counter_cannot_go_backwards_from_0():
    device = SoftU2fDevice()
    key_handle = registered(Ctap1(device)).key_handle
    device.fault = Fault.COUNTER_BACKWARDS

    with pytest.raises(AuthenticatorError, match="sign count is 0"):
        Ctap1(device).authenticate(os.urandom(32), APP_PARAM, key_handle)
