"""The software key behind python-fido2's real ``CtapHidDevice``: the HID transport end to end,
then CTAPHID framing written packet by packet to :class:`SoftHidConnection`."""

import os
import struct
import threading

import pytest
from fido2 import cbor
from fido2.ctap import STATUS, CtapError
from fido2.ctap1 import APDU, Ctap1
from fido2.ctap2 import Ctap2
from fido2.hid import CAPABILITY, CTAPHID, TYPE_INIT, CtapHidDevice
from fido2.utils import sha256

from virtual_authenticators.ctap import CtapKey, SoftCtapDevice
from virtual_authenticators.ctaphid import (
    BROADCAST_CHANNEL,
    PACKET_SIZE,
    PROTOCOL_VERSION,
    SoftHidConnection,
    soft_hid_device,
)
from virtual_authenticators.u2f import VERSION, Control, SoftU2fDevice

from .ceremonies import authenticate, register

ERR = CtapError.ERR
SELECTION = bytes([Ctap2.CMD.SELECTION])
GET_INFO = bytes([Ctap2.CMD.GET_INFO])
# U2F_VERSION as python-fido2's Ctap1.send_apdu encodes it: extended, Lc 0, Le 0.
U2F_VERSION = bytes([0, Ctap1.INS.VERSION, 0, 0, 0, 0, 0, 0, 0])
U2F_OK = struct.pack(">H", APDU.OK)


class UntouchedDevice(SoftCtapDevice):
    """A key nobody touches: asks for the touch, then waits until the request is cancelled."""

    def call(self, cmd, data=b"", event=None, on_keepalive=None):
        on_keepalive(STATUS.UPNEEDED)
        event.wait(5)
        return bytes([ERR.KEEPALIVE_CANCEL if event.is_set() else ERR.USER_ACTION_TIMEOUT])


class BrokenDevice(SoftCtapDevice):
    """A device whose software fails on every request."""

    def call(self, cmd, data=b"", event=None, on_keepalive=None):
        raise RuntimeError("broken")


class UntouchedU2fDevice(SoftU2fDevice):
    """A U2F key that, unlike a real one, holds on to a request until it is cancelled, and then
    answers that it wants a touch."""

    def call(self, cmd, data=b"", event=None, on_keepalive=None):
        event.wait(5)
        return struct.pack(">H", APDU.USE_NOT_SATISFIED)


def init_packet(
    channel: int, command: int, payload: bytes = b"", length: int | None = None
) -> bytes:
    header = struct.pack(
        ">IBH", channel, TYPE_INIT | command, len(payload) if length is None else length
    )
    return (header + payload).ljust(PACKET_SIZE, b"\0")


def continuation_packet(channel: int, seq: int, payload: bytes = b"") -> bytes:
    return (struct.pack(">IB", channel, seq) + payload).ljust(PACKET_SIZE, b"\0")


def answer(connection: SoftHidConnection) -> tuple[int, int, bytes]:
    """The channel, command and payload of the next single-packet answer."""
    packet = connection.read_packet()
    channel, command, length = struct.unpack_from(">IBH", packet)
    assert length <= PACKET_SIZE - 7
    return channel, command & ~TYPE_INIT, packet[7 : 7 + length]


def allocate(connection: SoftHidConnection) -> int:
    """A channel allocated with CTAPHID_INIT on the broadcast channel."""
    connection.write_packet(init_packet(BROADCAST_CHANNEL, CTAPHID.INIT, os.urandom(8)))
    return struct.unpack_from(">I", answer(connection)[2], 8)[0]


@pytest.fixture
def connection() -> SoftHidConnection:
    return SoftHidConnection(SoftCtapDevice(), read_timeout=5.0)


@pytest.fixture
def u2f_connection() -> SoftHidConnection:
    return SoftHidConnection(SoftU2fDevice(), read_timeout=5.0)


# Through python-fido2's CtapHidDevice


def test_a_ping_is_echoed():
    assert soft_hid_device().ping(b"Hello FIDO") == b"Hello FIDO"


def test_a_ping_longer_than_a_packet_is_echoed_in_fragments_both_ways():
    message = os.urandom(1000)

    assert soft_hid_device().ping(message) == message


def test_the_hid_device_reports_version_2_and_the_devices_capabilities():
    device = soft_hid_device()

    assert device.version == PROTOCOL_VERSION
    assert CAPABILITY.CBOR.supported(device.capabilities)
    assert CAPABILITY.NMSG.supported(device.capabilities)
    assert device.product_name == "Soft CTAPHID key"


def test_get_info_answers_the_soft_devices_info():
    soft = SoftCtapDevice()

    assert Ctap2(soft_hid_device(soft)).get_info() == soft.info


def test_a_key_over_hid_registers_and_then_authenticates(relying_party):
    key = CtapKey(soft_hid_device())

    register(key, relying_party)

    assert authenticate(key, relying_party)


def test_the_client_hears_the_touch_request_as_a_keepalive():
    statuses = []

    soft_hid_device().call(CTAPHID.CBOR, SELECTION, on_keepalive=statuses.append)

    assert statuses == [STATUS.UPNEEDED]


def test_a_cancelled_request_is_answered_with_keepalive_cancel():
    cancel = threading.Event()

    answer = soft_hid_device(UntouchedDevice()).call(
        CTAPHID.CBOR, SELECTION, cancel, on_keepalive=lambda _: cancel.set()
    )

    assert answer == bytes([ERR.KEEPALIVE_CANCEL])


def test_what_the_device_raises_reaches_the_caller_in_place_of_an_answer():
    with pytest.raises(RuntimeError, match="broken"):
        soft_hid_device(BrokenDevice()).call(CTAPHID.CBOR, GET_INFO)


def test_a_hid_device_over_a_soft_connection_is_fido2s_own():
    assert type(soft_hid_device()) is CtapHidDevice


# CTAPHID framing, packet by packet


def test_init_on_the_broadcast_channel_allocates_a_fresh_channel(connection):
    nonce = os.urandom(8)

    connection.write_packet(init_packet(BROADCAST_CHANNEL, CTAPHID.INIT, nonce))

    channel, command, payload = answer(connection)
    allocated, version, *_, capabilities = struct.unpack(">IBBBBB", payload[8:])
    assert (channel, command, payload[:8]) == (BROADCAST_CHANNEL, CTAPHID.INIT, nonce)
    assert allocated not in (0, BROADCAST_CHANNEL)
    assert allocated != allocate(connection)
    assert version == PROTOCOL_VERSION
    assert capabilities & (CAPABILITY.CBOR | CAPABILITY.NMSG) == CAPABILITY.CBOR | CAPABILITY.NMSG


def test_init_with_a_nonce_of_the_wrong_length_is_invalid_length(connection):
    connection.write_packet(init_packet(BROADCAST_CHANNEL, CTAPHID.INIT, b"short"))

    assert answer(connection) == (BROADCAST_CHANNEL, CTAPHID.ERROR, bytes([ERR.INVALID_LENGTH]))


def test_a_message_longer_than_128_continuations_carry_is_invalid_length(connection):
    channel = allocate(connection)

    connection.write_packet(init_packet(channel, CTAPHID.PING, length=0xFFFF))

    assert answer(connection) == (channel, CTAPHID.ERROR, bytes([ERR.INVALID_LENGTH]))


def test_a_message_on_a_channel_never_allocated_is_invalid_channel(connection):
    connection.write_packet(init_packet(0x12345678, CTAPHID.PING, b"hi"))

    assert answer(connection) == (0x12345678, CTAPHID.ERROR, bytes([ERR.INVALID_CHANNEL]))


def test_a_continuation_out_of_sequence_is_invalid_seq(connection):
    channel = allocate(connection)
    connection.write_packet(init_packet(channel, CTAPHID.PING, bytes(57), length=200))

    connection.write_packet(continuation_packet(channel, 1, bytes(59)))

    assert answer(connection) == (channel, CTAPHID.ERROR, bytes([ERR.INVALID_SEQ]))


def test_init_from_another_channel_while_a_message_is_assembled_is_channel_busy(connection):
    assembling, other = allocate(connection), allocate(connection)
    connection.write_packet(init_packet(assembling, CTAPHID.PING, bytes(57), length=200))

    connection.write_packet(init_packet(other, CTAPHID.INIT, os.urandom(8)))

    assert answer(connection) == (other, CTAPHID.ERROR, bytes([ERR.CHANNEL_BUSY]))


def test_an_unknown_command_is_invalid_command(connection):
    channel = allocate(connection)

    connection.write_packet(init_packet(channel, CTAPHID.VENDOR_FIRST, b"?"))

    assert answer(connection) == (channel, CTAPHID.ERROR, bytes([ERR.INVALID_COMMAND]))


def test_wink_is_answered_empty(connection):
    channel = allocate(connection)

    connection.write_packet(init_packet(channel, CTAPHID.WINK))

    assert answer(connection) == (channel, CTAPHID.WINK, b"")


def test_a_keepalive_with_upneeded_comes_before_the_answer_when_the_device_asks_for_a_touch(
    connection,
):
    channel = allocate(connection)

    connection.write_packet(init_packet(channel, CTAPHID.CBOR, SELECTION))

    assert answer(connection) == (channel, CTAPHID.KEEPALIVE, bytes([STATUS.UPNEEDED]))
    assert answer(connection) == (channel, CTAPHID.CBOR, bytes([ERR.SUCCESS]))


def test_cancel_during_a_pending_request_answers_it_with_keepalive_cancel():
    connection = SoftHidConnection(UntouchedDevice(), read_timeout=5.0)
    channel = allocate(connection)
    connection.write_packet(init_packet(channel, CTAPHID.CBOR, SELECTION))
    assert answer(connection)[1] == CTAPHID.KEEPALIVE

    connection.write_packet(init_packet(channel, CTAPHID.CANCEL))

    assert answer(connection) == (channel, CTAPHID.CBOR, bytes([ERR.KEEPALIVE_CANCEL]))


def test_a_cbor_answer_longer_than_a_packet_is_sent_in_continuations(connection):
    channel = allocate(connection)

    connection.write_packet(init_packet(channel, CTAPHID.CBOR, GET_INFO))

    first = connection.read_packet()
    length = struct.unpack_from(">H", first, 5)[0]
    payload, seq = first[7:], 0
    while len(payload) < length:
        packet = connection.read_packet()
        assert struct.unpack_from(">IB", packet) == (channel, seq)
        payload, seq = payload + packet[5:], seq + 1
    assert seq > 0
    assert payload[0] == ERR.SUCCESS
    assert cbor.decode(payload[1:length]) == dict(SoftCtapDevice().info)


def test_reading_with_nothing_queued_times_out():
    connection = SoftHidConnection(SoftCtapDevice(), read_timeout=0.2)
    with pytest.raises(CtapError) as error:
        connection.read_packet()

    assert error.value.code == ERR.TIMEOUT


def test_a_packet_of_the_wrong_size_is_refused(connection):
    with pytest.raises(ValueError, match="64 bytes"):
        connection.write_packet(b"\0" + init_packet(BROADCAST_CHANNEL, CTAPHID.PING))


# CTAPHID_MSG: CTAP1/U2F APDUs


def test_a_u2f_device_over_hid_answers_its_version():
    assert Ctap1(soft_hid_device(SoftU2fDevice())).get_version() == VERSION.decode()


def test_a_msg_request_is_answered_with_a_msg_carrying_the_response_apdu(u2f_connection):
    channel = allocate(u2f_connection)

    u2f_connection.write_packet(init_packet(channel, CTAPHID.MSG, U2F_VERSION))

    assert answer(u2f_connection) == (channel, CTAPHID.MSG, VERSION + U2F_OK)


def test_a_msg_request_fragmented_over_several_continuations_is_reassembled(u2f_connection):
    app_param = sha256(b"example.com")
    key_handle = Ctap1(u2f_connection.device).register(os.urandom(32), app_param).key_handle
    data = os.urandom(32) + app_param + bytes([len(key_handle)]) + key_handle
    check_only = struct.pack(
        ">BBBBBH", 0, Ctap1.INS.AUTHENTICATE, Control.CHECK_ONLY, 0, 0, len(data)
    )
    message = check_only + data + b"\0\0"
    channel = allocate(u2f_connection)
    first, rest = PACKET_SIZE - 7, PACKET_SIZE - 5
    assert len(message) > first + rest  # an initialization and two continuations at least

    u2f_connection.write_packet(
        init_packet(channel, CTAPHID.MSG, message[:first], length=len(message))
    )
    for seq, start in enumerate(range(first, len(message), rest)):
        u2f_connection.write_packet(
            continuation_packet(channel, seq, message[start : start + rest])
        )

    usage = struct.pack(">H", APDU.USE_NOT_SATISFIED)
    assert answer(u2f_connection) == (channel, CTAPHID.MSG, usage)


def test_a_msg_answer_longer_than_a_packet_reaches_ctap1_whole():
    registration = Ctap1(soft_hid_device(SoftU2fDevice())).register(os.urandom(32), os.urandom(32))

    assert len(registration) > 8 * PACKET_SIZE


def test_msg_to_a_device_reporting_nmsg_is_invalid_command(connection):
    channel = allocate(connection)

    connection.write_packet(init_packet(channel, CTAPHID.MSG, U2F_VERSION))

    assert answer(connection) == (channel, CTAPHID.ERROR, bytes([ERR.INVALID_COMMAND]))


def test_cbor_to_a_device_without_the_cbor_capability_is_invalid_command(u2f_connection):
    channel = allocate(u2f_connection)

    u2f_connection.write_packet(init_packet(channel, CTAPHID.CBOR, GET_INFO))

    assert answer(u2f_connection) == (channel, CTAPHID.ERROR, bytes([ERR.INVALID_COMMAND]))


def test_init_reports_neither_cbor_nor_nmsg_for_a_u2f_device(u2f_connection):
    u2f_connection.write_packet(init_packet(BROADCAST_CHANNEL, CTAPHID.INIT, os.urandom(8)))

    capabilities = answer(u2f_connection)[2][16]
    assert capabilities & (CAPABILITY.CBOR | CAPABILITY.NMSG) == 0
    assert capabilities & CAPABILITY.WINK


def test_cancel_during_a_pending_msg_request_leaves_the_devices_answer_as_it_is():
    connection = SoftHidConnection(UntouchedU2fDevice(), read_timeout=5.0)
    channel = allocate(connection)
    connection.write_packet(init_packet(channel, CTAPHID.MSG, U2F_VERSION))

    connection.write_packet(init_packet(channel, CTAPHID.CANCEL))

    usage = struct.pack(">H", APDU.USE_NOT_SATISFIED)
    assert answer(connection) == (channel, CTAPHID.MSG, usage)
