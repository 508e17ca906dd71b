"""The software key as a virtual USB HID device: uhid's event layout, the FIDO report descriptor
as python-fido2 reads it, the event pump over a socketpair standing in for ``/dev/uhid``, and,
on a Linux machine with uhid, the kernel path itself.

The socketpair tests check this module's event framing and threads only: the test plays the
kernel by writing events laid out as ``include/uapi/linux/uhid.h`` has them. Whether the kernel
and a browser accept the device is what the kernel test checks, where ``/dev/uhid`` is usable.
"""

import errno
import os
import socket
import struct
import threading
import time
from collections.abc import Iterator

import pytest
from fido2 import cbor
from fido2.ctap2 import Ctap2
from fido2.hid import CTAPHID, TYPE_INIT, CtapHidDevice
from fido2.hid.base import FIDO_USAGE, FIDO_USAGE_PAGE, parse_report_descriptor

from virtual_authenticators.ctap import SoftCtapDevice
from virtual_authenticators.ctaphid import BROADCAST_CHANNEL, SoftHidConnection
from virtual_authenticators.uhid import (
    EVENT_SIZE,
    FIDO_REPORT_DESCRIPTOR,
    EventType,
    ReportType,
    UhidKey,
    UhidUnavailable,
    create2_event,
    host_report,
    input2_event,
    main,
    parse_event,
    uhid_unavailable,
)

# Offsets in struct uhid_event: the __u32 type, then uhid_create2_req's fields, packed.
NAME, PHYS, UNIQ, RD_SIZE, BUS, VENDOR, PRODUCT, VERSION, COUNTRY, RD_DATA = (
    4, 132, 196, 260, 262, 264, 268, 272, 276, 280,
)  # fmt: skip
UHID_DESTROY, UHID_OUTPUT, UHID_GET_REPORT, UHID_GET_REPORT_REPLY = 1, 6, 9, 10
UHID_CREATE2, UHID_INPUT2, UHID_SET_REPORT, UHID_SET_REPORT_REPLY = 11, 12, 13, 14
UHID_OUTPUT_REPORT = 1
GET_INFO = bytes([Ctap2.CMD.GET_INFO])
PACKET = bytes(range(64))

NO_UHID = uhid_unavailable()
needs_linux_uhid = pytest.mark.skipif(
    NO_UHID is not None, reason=f"needs a Linux machine with uhid usable here: {NO_UHID}"
)


def kernel_event(*fields: object, layout: str) -> bytes:
    """An event as the kernel hands it to a read of /dev/uhid: the whole union, zero-filled."""
    return struct.pack(layout, *fields).ljust(4376, b"\0")


def output_event(data: bytes, report_type: int = UHID_OUTPUT_REPORT) -> bytes:
    """``UHID_OUTPUT``: ``struct uhid_output_req { __u8 data[4096]; __u16 size; __u8 rtype; }``."""
    return kernel_event(UHID_OUTPUT, data, len(data), report_type, layout="=I4096sHB")


def init_packet(channel: int, command: int, payload: bytes) -> bytes:
    return struct.pack(">IBH", channel, TYPE_INIT | command, len(payload)) + payload


class KernelEnd:
    """The test's end of a SOCK_SEQPACKET socketpair standing in for /dev/uhid: one event per
    message, as one event per read and write of the real device."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def read_event(self) -> bytes:
        return self.sock.recv(2 * EVENT_SIZE)

    def write(self, event: bytes) -> None:
        self.sock.send(event)

    def send_report(self, packet: bytes) -> None:
        """A 64-byte report written to hidraw, so preceded by report number 0."""
        self.write(output_event(b"\0" + packet.ljust(64, b"\0")))

    def read_report(self) -> bytes:
        event = self.read_event()
        kind, size = struct.unpack_from("=IH", event)
        assert kind == UHID_INPUT2
        return event[6 : 6 + size]

    def read_message(self) -> tuple[int, int, bytes]:
        """The channel, command and payload of the next answer, keep-alives skipped."""
        channel, command, length = struct.unpack_from(">IBH", report := self.read_report())
        while command == TYPE_INIT | CTAPHID.KEEPALIVE:
            channel, command, length = struct.unpack_from(">IBH", report := self.read_report())
        payload = report[7:]
        while len(payload) < length:
            payload += self.read_report()[5:]
        return channel, command & ~TYPE_INIT, payload[:length]


def soft_connection() -> SoftHidConnection:
    return SoftHidConnection(SoftCtapDevice(), read_timeout=0.2)


@pytest.fixture
def sockets() -> Iterator[tuple[socket.socket, socket.socket]]:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    theirs.settimeout(5)
    yield ours, theirs
    ours.close()
    theirs.close()


@pytest.fixture
def kernel(sockets) -> Iterator[KernelEnd]:
    """A key plugged into the test's kernel end, its CREATE2 event already read."""
    ours, theirs = sockets
    with UhidKey(soft_connection, fd=ours.fileno()):
        end = KernelEnd(theirs)
        end.read_event()
        yield end


def allocate(kernel: KernelEnd) -> int:
    kernel.send_report(init_packet(BROADCAST_CHANNEL, CTAPHID.INIT, os.urandom(8)))
    return struct.unpack_from(">I", kernel.read_message()[2], 8)[0]


# The events, as include/uapi/linux/uhid.h lays them out


def test_a_create2_event_is_the_whole_uhid_event():
    event = create2_event(FIDO_REPORT_DESCRIPTOR, name="key", vendor=0x1209, product=0x2FA0)

    assert len(event) == EVENT_SIZE == 4 + 128 + 64 + 64 + 2 + 2 + 4 * 4 + 4096


def test_a_create2_event_has_each_field_at_its_offset():
    event = create2_event(
        FIDO_REPORT_DESCRIPTOR, name="Soft key", vendor=0x1209, product=0x2FA0, uniq="0a1b"
    )

    assert struct.unpack_from("=I", event) == (UHID_CREATE2,)
    assert event[NAME:PHYS] == b"Soft key".ljust(128, b"\0")
    assert event[PHYS:UNIQ] == bytes(64)
    assert event[UNIQ:RD_SIZE] == b"0a1b".ljust(64, b"\0")
    assert struct.unpack_from("=HHIIII", event, RD_SIZE) == (
        len(FIDO_REPORT_DESCRIPTOR), 0x03, 0x1209, 0x2FA0, 0x0100, 0,
    )  # fmt: skip
    assert event[VERSION:COUNTRY] == struct.pack("=I", 0x0100)
    assert event[RD_DATA:] == FIDO_REPORT_DESCRIPTOR.ljust(4096, b"\0")


def test_a_name_longer_than_the_kernel_keeps_is_refused():
    with pytest.raises(ValueError, match="at most 127 bytes"):
        create2_event(FIDO_REPORT_DESCRIPTOR, name="k" * 128, vendor=1, product=1)


def test_an_input2_event_carries_the_reports_size_and_bytes():
    event = input2_event(PACKET)

    assert len(event) == 4376
    assert struct.unpack_from("=IH", event) == (UHID_INPUT2, 64)
    assert event[6:70] == PACKET
    assert event[70:] == bytes(4376 - 70)


def test_an_output_event_as_the_kernel_writes_it_gives_the_64_byte_report():
    event = parse_event(output_event(b"\0" + PACKET))

    assert event.type == EventType.OUTPUT
    assert event.report_type == ReportType.OUTPUT
    assert host_report(event.data) == PACKET


def test_a_get_report_event_gives_the_request_id_its_reply_needs():
    event = parse_event(kernel_event(UHID_GET_REPORT, 77, 0, 0, layout="=IIBB"))

    assert (event.type, event.request_id, event.report_type) == (EventType.GET_REPORT, 77, 0)


def test_an_event_type_this_module_does_not_know_is_kept_as_its_number():
    assert parse_event(struct.pack("=I", 99)).type == 99


def test_the_report_number_a_host_writes_first_is_dropped():
    assert host_report(b"\0" + PACKET) == PACKET


def test_a_report_written_without_a_report_number_passes_whole():
    packet = b"\x01" + PACKET[1:]

    assert host_report(packet) == packet


def test_a_short_report_is_zero_padded_to_64_bytes():
    assert host_report(b"\0\x01\x02") == b"\x01\x02".ljust(64, b"\0")


def test_an_output_longer_than_a_report_is_no_report():
    assert host_report(b"\x01" + PACKET) is None


# The report descriptor, as python-fido2's Linux backend reads it from hidraw


def test_the_descriptor_gives_python_fido2_64_byte_reports_both_ways():
    assert parse_report_descriptor(FIDO_REPORT_DESCRIPTOR) == (64, 64)


def test_the_descriptor_opens_with_the_fido_usage_page_and_ctaphid_usage():
    usage_page_item, page, usage_item, usage = struct.unpack_from("<BHBB", FIDO_REPORT_DESCRIPTOR)

    assert (usage_page_item, page) == (0x06, FIDO_USAGE_PAGE)
    assert (usage_item, usage) == (0x09, FIDO_USAGE)


def test_python_fido2_refuses_the_descriptor_under_another_usage_page():
    vendor_page = b"\x06\x00\xff" + FIDO_REPORT_DESCRIPTOR[3:]

    with pytest.raises(ValueError, match="Not a FIDO device"):
        parse_report_descriptor(vendor_page)


# The pump, over a socketpair standing in for /dev/uhid's file descriptor


def test_the_key_is_created_on_entering_and_destroyed_on_leaving(sockets):
    ours, theirs = sockets
    kernel = KernelEnd(theirs)

    with UhidKey(soft_connection, fd=ours.fileno(), name="Soft key"):
        created = kernel.read_event()

    assert parse_event(created).type == EventType.CREATE2
    assert created[NAME : NAME + 9] == b"Soft key\0"
    assert created[RD_DATA : RD_DATA + len(FIDO_REPORT_DESCRIPTOR)] == FIDO_REPORT_DESCRIPTOR
    assert struct.unpack_from("=I", kernel.read_event()) == (UHID_DESTROY,)


def test_a_given_file_descriptor_is_left_open_for_its_owner(sockets):
    ours, _ = sockets

    with UhidKey(soft_connection, fd=ours.fileno()):
        pass

    assert os.fstat(ours.fileno())


def test_leaving_stops_the_thread_reading_events(sockets):
    ours, _ = sockets

    with UhidKey(soft_connection, fd=ours.fileno()):
        pass

    assert "uhid-events" not in {thread.name for thread in threading.enumerate()}


def test_reports_pass_between_a_uhid_fd_and_the_key(kernel):
    nonce = os.urandom(8)

    kernel.send_report(init_packet(BROADCAST_CHANNEL, CTAPHID.INIT, nonce))
    channel, command, payload = kernel.read_message()

    assert (channel, command) == (BROADCAST_CHANNEL, CTAPHID.INIT)
    assert payload[:8] == nonce
    assert struct.unpack_from(">I", payload, 8)[0] not in (0, BROADCAST_CHANNEL)


def test_a_cbor_get_info_through_a_uhid_fd_names_fido_2_0(kernel):
    channel = allocate(kernel)

    kernel.send_report(init_packet(channel, CTAPHID.CBOR, GET_INFO))
    answered_on, command, payload = kernel.read_message()

    assert (answered_on, command, payload[0]) == (channel, CTAPHID.CBOR, 0)
    assert "FIDO_2_0" in cbor.decode(payload[1:])[1]


def test_a_feature_report_read_is_refused_with_eio(kernel):
    kernel.write(kernel_event(UHID_GET_REPORT, 7, 0, 0, layout="=IIBB"))

    assert struct.unpack_from("=IIH", kernel.read_event()) == (
        UHID_GET_REPORT_REPLY, 7, errno.EIO,
    )  # fmt: skip


def test_a_feature_report_write_is_refused_with_eio(kernel):
    kernel.write(kernel_event(UHID_SET_REPORT, 8, 0, 0, 1, b"\x01", layout="=IIBBH4096s"))

    assert struct.unpack_from("=IIH", kernel.read_event()) == (
        UHID_SET_REPORT_REPLY, 8, errno.EIO,
    )  # fmt: skip


# Where /dev/uhid cannot be used


def test_a_missing_uhid_device_is_named_with_the_module_to_load(tmp_path):
    reason = uhid_unavailable(str(tmp_path / "uhid"))

    assert reason == (
        f"{tmp_path / 'uhid'} is missing: load the uhid module (modprobe uhid) on Linux;"
        " other systems have no virtual HID devices"
    )


def test_a_regular_file_is_not_taken_for_the_uhid_device(tmp_path):
    (tmp_path / "uhid").write_bytes(b"")

    assert uhid_unavailable(str(tmp_path / "uhid")) == (
        f"{tmp_path / 'uhid'} is not a character device, so not the kernel's uhid"
    )


def test_a_key_on_a_missing_uhid_device_is_unavailable(tmp_path):
    with (
        pytest.raises(UhidUnavailable, match="is missing: load the uhid module"),
        UhidKey(soft_connection, path=str(tmp_path / "uhid")),
    ):
        pass


def test_a_key_on_a_uhid_device_it_may_not_open_asks_for_root_or_a_udev_rule(monkeypatch):
    def refuse(path, flags, mode=0o777):
        raise PermissionError(errno.EACCES, "Permission denied", path)

    monkeypatch.setattr(os, "open", refuse)

    with (
        pytest.raises(UhidUnavailable, match="needs root, or a udev rule giving you /dev/uhid"),
        UhidKey(soft_connection),
    ):
        pass


def test_the_command_line_says_why_no_key_can_be_plugged_in(tmp_path, capsys):
    missing = str(tmp_path / "uhid")

    assert main(["--path", missing]) == 2
    assert capsys.readouterr().err == f"uhid: error: {uhid_unavailable(missing)}\n"


# The kernel path: a Linux machine with the uhid module and write access to /dev/uhid


def wait_for_hid_device(name: str, timeout: float = 10.0) -> CtapHidDevice:
    """The FIDO HID device python-fido2 lists with the harness's ids and ``name``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for device in CtapHidDevice.list_devices():
            descriptor = device.descriptor
            if (descriptor.vid, descriptor.pid, descriptor.product_name) == (
                0x1209, 0x2FA0, name,
            ):  # fmt: skip
                return device
            device.close()
        time.sleep(0.1)
    raise AssertionError(
        f"no hidraw device named {name!r} appeared in {timeout} s: can this user read"
        " /dev/hidraw*? (systemd's 60-fido-id.rules or a 70-u2f.rules grants FIDO keys)"
    )


@needs_linux_uhid
def test_python_fido2_lists_the_virtual_key_and_reads_its_info_through_the_kernel():
    name = f"pytest uhid key {os.getpid()}"

    with UhidKey(soft_connection, name=name):
        device = wait_for_hid_device(name)
        try:
            info = Ctap2(device).get_info()
        finally:
            device.close()

    assert "FIDO_2_0" in info.versions
