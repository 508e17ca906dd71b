"""What is particular to the software CTAP2 device and to CtapKey, which drives it through
Fido2Client; the contract all keys keep is in test_honest_keys.py, the faults in
test_faulty.py."""

import pytest
from fido2 import cbor
from fido2.attestation import AttestationType, InvalidSignature, PackedAttestation
from fido2.cose import ES256
from fido2.ctap import CtapDevice, CtapError
from fido2.ctap2 import Ctap2
from fido2.hid import CTAPHID
from fido2.utils import websafe_decode
from fido2.webauthn import CollectedClientData

from virtual_authenticators.base import (
    AuthenticatorError,
)
from virtual_authenticators.ctap import AAGUID, DEVICE_FAULTS, CtapKey, SoftCtapDevice
from virtual_authenticators.faulty import Fault

from .ceremonies import attestation_object, authenticate, register

ERR = CtapError.ERR

CLIENT_FAULTS = [fault for fault in Fault if fault not in DEVICE_FAULTS]


class ForwardingDevice(CtapDevice):
    """Another ``CtapDevice`` (as a real key's ``CtapHidDevice`` is), here passing each message
    on to a software device."""

    def __init__(self, device: SoftCtapDevice) -> None:
        self.device = device

    @property
    def capabilities(self):
        return self.device.capabilities

    def call(self, cmd, data=b"", event=None, on_keepalive=None):
        return self.device.call(cmd, data, event, on_keepalive)

    @classmethod
    def list_devices(cls):
        return iter(())


def verify_packed(registration: dict):
    """PackedAttestation's verdict on the registration's attestation statement."""
    attestation = attestation_object(registration)
    client_data = CollectedClientData(websafe_decode(registration["response"]["clientDataJSON"]))
    return PackedAttestation().verify(attestation.att_stmt, attestation.auth_data, client_data.hash)


def ctap_request(command: int, params: dict | None = None) -> bytes:
    return bytes([command]) + (cbor.encode(params) if params is not None else b"")


# The key through Fido2Client


def test_registration_is_accepted_with_an_es256_credential_of_this_keys_aaguid(relying_party):
    auth_data = register(CtapKey(), relying_party)

    assert auth_data.credential_data.public_key.ALGORITHM == ES256.ALGORITHM
    assert auth_data.credential_data.aaguid == AAGUID
    assert auth_data.counter == 0


def test_a_key_without_built_in_uv_cannot_satisfy_required_user_verification(relying_party):
    options, _ = relying_party.registration_options(user_verification="required")

    with pytest.raises(AuthenticatorError, match="CONFIGURATION_UNSUPPORTED"):
        CtapKey(SoftCtapDevice(uv=False)).create(options, relying_party.origin)


def test_packed_registration_carries_a_verifiable_self_attestation(relying_party):
    options, _ = relying_party.registration_options()

    registration = CtapKey().create(options, relying_party.origin)

    assert attestation_object(registration).fmt == "packed"
    assert verify_packed(registration).attestation_type == AttestationType.SELF


def test_a_none_key_attests_with_fmt_none_and_an_empty_statement(relying_party):
    options, _ = relying_party.registration_options()

    attestation = attestation_object(
        CtapKey(attestation="none").create(options, relying_party.origin)
    )

    assert (attestation.fmt, attestation.att_stmt) == ("none", {})


def test_a_key_drives_any_ctap_device(relying_party):
    key = CtapKey(ForwardingDevice(SoftCtapDevice()))
    register(key, relying_party)

    assert authenticate(key, relying_party)


def test_a_key_on_another_device_has_no_fault_to_set():
    key = CtapKey(ForwardingDevice(SoftCtapDevice()))

    with pytest.raises(TypeError):
        key.fault = Fault.UP_CLEARED


def test_repr_names_the_device_its_attestation_and_its_fault():
    assert repr(CtapKey()) == "CtapKey(software CTAP2 device, packed)"
    assert repr(CtapKey(attestation="none", fault=Fault.UP_CLEARED)) == (
        "CtapKey(software CTAP2 device, none, Fault.UP_CLEARED)"
    )


# Faults


@pytest.mark.parametrize("fault", CLIENT_FAULTS, ids=lambda fault: fault.value)
def test_a_fault_of_the_client_is_refused_at_construction(fault):
    with pytest.raises(ValueError, match="Fido2Client builds"):
        CtapKey(fault=fault)


@pytest.mark.parametrize("fault", CLIENT_FAULTS, ids=lambda fault: fault.value)
def test_a_fault_of_the_client_cannot_be_set_later(fault):
    key = CtapKey()

    with pytest.raises(ValueError, match="Fido2Client builds"):
        key.fault = fault


def test_faulty_packed_attestation_signature_is_refused(relying_party):
    options, _ = relying_party.registration_options()

    registration = CtapKey(fault=Fault.BAD_SIGNATURE).create(options, relying_party.origin)

    with pytest.raises(InvalidSignature):
        verify_packed(registration)


# The device on its own, as Ctap2 (or any CTAP client) speaks to it


def test_device_answers_get_info_as_a_ctap2_key_with_built_in_uv():
    info = Ctap2(SoftCtapDevice()).info

    assert info.versions == ["FIDO_2_0", "FIDO_2_1"]
    assert info.aaguid == AAGUID
    assert info.options["uv"] and not info.options["rk"]
    assert info.algorithms == [{"type": "public-key", "alg": ES256.ALGORITHM}]


def test_device_without_built_in_uv_leaves_uv_out_of_get_info():
    assert "uv" not in Ctap2(SoftCtapDevice(uv=False)).info.options


def test_device_answers_an_unknown_command_with_invalid_command():
    assert SoftCtapDevice().call(CTAPHID.CBOR, ctap_request(0x3F)) == bytes([ERR.INVALID_COMMAND])


def test_device_answers_malformed_cbor_with_invalid_cbor():
    truncated_map = b"\xa2\x01"

    response = SoftCtapDevice().call(
        CTAPHID.CBOR, ctap_request(Ctap2.CMD.MAKE_CREDENTIAL) + truncated_map
    )

    assert response == bytes([ERR.INVALID_CBOR])


def test_device_answers_a_request_without_its_client_data_hash_with_missing_parameter():
    request = ctap_request(Ctap2.CMD.GET_ASSERTION, {1: "localhost"})

    assert SoftCtapDevice().call(CTAPHID.CBOR, request) == bytes([ERR.MISSING_PARAMETER])


def test_device_refuses_ctaphid_commands_other_than_cbor_as_a_hid_key_does():
    with pytest.raises(CtapError) as refusal:
        SoftCtapDevice().call(CTAPHID.MSG, b"\x00\x01\x00\x00")

    assert refusal.value.code == ERR.INVALID_COMMAND


def test_a_silent_assertion_sets_no_flags_and_is_not_counted_as_a_use(relying_party):
    device = SoftCtapDevice()
    key = CtapKey(device)
    register(key, relying_party)
    credential_id = key.credentials[0]

    assertion = Ctap2(device).get_assertion(
        "localhost", b"\0" * 32, [{"type": "public-key", "id": credential_id}], None, {"up": False}
    )

    assert (assertion.auth_data.flags, assertion.auth_data.counter) == (0, 0)
    assert key.sign_count(credential_id) == 0
