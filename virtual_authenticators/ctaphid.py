"""A software security key behind python-fido2's real ``CtapHidDevice``: :class:`SoftHidConnection`
is the authenticator's side of CTAPHID (CTAP 2.1 §11.2) over 64-byte HID reports, passing each
complete CTAPHID_CBOR message on to a CTAP2 device such as
:class:`~virtual_authenticators.ctap.SoftCtapDevice`, and each CTAPHID_MSG message (a CTAP1/U2F
APDU) on to a U2F device such as :class:`~virtual_authenticators.u2f.SoftU2fDevice`.

So the HID transport code a real USB key is driven through (channel allocation, framing,
keep-alives, cancel) runs in CI without a key: :func:`soft_hid_device` gives a
``fido2.hid.CtapHidDevice`` that ``Ctap2``, ``Ctap1``, ``Fido2Client`` and
:class:`~virtual_authenticators.ctap.CtapKey` take as they take one found by ``list_devices()``.

Which of the two the device speaks is its capabilities': CBOR for CTAPHID_CBOR, NMSG clear for
CTAPHID_MSG (§11.2.9.1.3), as the CTAPHID_INIT answer reports them (with WINK added).

Packets are exchanged as python-fido2's ``CtapHidDevice`` writes and reads them: one report
each, without the leading report-id byte (the OS backend adds it), padded with zeros.
"""

from __future__ import annotations

import itertools
import os
import queue
import struct
import threading
from dataclasses import dataclass, field

from fido2.ctap import STATUS, CtapDevice, CtapError
from fido2.hid import CAPABILITY, CTAPHID, TYPE_INIT, CtapHidDevice
from fido2.hid.base import CtapHidConnection, HidDescriptor

from virtual_authenticators.ctap import SoftCtapDevice

ERR = CtapError.ERR

BROADCAST_CHANNEL = 0xFFFFFFFF
PACKET_SIZE = 64
PROTOCOL_VERSION = 2
DEVICE_VERSION = (1, 0, 0)
"""Major, minor and build number the device reports in its CTAPHID_INIT answer."""

_INIT_HEADER = struct.Struct(">IBH")  # channel, command | TYPE_INIT, payload length
_CONT_HEADER = struct.Struct(">IB")  # channel, sequence number


@dataclass
class _Message:
    """A request being reassembled from its initialization and continuation packets."""

    channel: int
    command: int
    length: int
    data: bytearray = field(default_factory=bytearray)
    next_seq: int = 0


class SoftHidConnection(CtapHidConnection):
    """The authenticator's side of CTAPHID over ``packet_size``-byte reports.

    Written packets are reassembled into messages; answers queue up for :meth:`read_packet`,
    fragmented the same way. Commands: INIT (on the broadcast channel it allocates a fresh
    channel; on an allocated one it aborts that channel's message and keeps the id), PING
    (echo), WINK (empty answer), CBOR if the device has the CBOR capability and MSG if it lacks
    NMSG (each passed to ``device.call`` on a worker thread: each ``on_keepalive`` status it
    reports is sent as a KEEPALIVE packet before the answer), CANCEL (a pending CBOR request on
    that channel is answered with KEEPALIVE_CANCEL, §11.2.9.1.5; a pending MSG request is
    answered as the device answers it, since CTAP1/U2F has no cancelled status: a U2F key never
    waits, it answers USE_NOT_SATISFIED at once and the client asks again, and U2F HID has no
    CANCEL; CANCEL itself gets no answer). Anything else is answered with CTAPHID_ERROR:
    INVALID_COMMAND for an unknown command or one the device does not speak, INVALID_CHANNEL
    for a channel never allocated, INVALID_SEQ for a continuation out of sequence (the message
    is dropped), CHANNEL_BUSY for a packet from another channel while a message is assembled or
    a request is pending, INVALID_LENGTH for a length the command or the transport cannot have.
    Continuation packets with no message being assembled are ignored, as the spec says.

    :param device: the device CBOR and MSG messages are passed to: anything with python-fido2's
        ``CtapDevice`` ``capabilities`` and ``call``.
    :param packet_size: the report size, both ways.
    :param read_timeout: seconds :meth:`read_packet` waits for an answer.
    """

    def __init__(
        self, device: CtapDevice, *, packet_size: int = PACKET_SIZE, read_timeout: float = 5.0
    ) -> None:
        self.device = device
        self.packet_size = packet_size
        self.read_timeout = read_timeout
        self._answers: queue.Queue[bytes | BaseException] = queue.Queue()
        self._channel_ids = itertools.count(1)
        self._channels: set[int] = set()
        self._assembling: _Message | None = None
        self._pending: tuple[int, threading.Event] | None = None
        self._lock = threading.Lock()

    @property
    def max_message_size(self) -> int:
        """The longest payload one initialization and 128 continuation packets carry."""
        return self.packet_size - _INIT_HEADER.size + 128 * (self.packet_size - _CONT_HEADER.size)

    def read_packet(self) -> bytes:
        """The next queued packet, waiting up to :attr:`read_timeout` for one.

        :raises CtapError: TIMEOUT (CTAPHID's ERR_MSG_TIMEOUT) when nothing came in time.
        :raises Exception: what ``device.call`` raised for a CBOR or MSG request, in its place.
        """
        try:
            answer = self._answers.get(timeout=self.read_timeout)
        except queue.Empty:
            raise CtapError(ERR.TIMEOUT) from None
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def write_packet(self, data: bytes) -> None:
        """Take one packet from the host: a report without its report-id byte.

        :raises ValueError: the packet is not one report long.
        """
        if len(data) != self.packet_size:
            raise ValueError(f"a packet is {self.packet_size} bytes, not {len(data)}")
        with self._lock:
            if data[4] & TYPE_INIT:
                self._initialization(data)
            else:
                self._continuation(data)

    def close(self) -> None:
        """Abort the pending CBOR or MSG request, if any (the event ``device.call`` was given
        is set)."""
        with self._lock:
            if self._pending is not None:
                self._pending[1].set()

    def _initialization(self, packet: bytes) -> None:
        channel, command, length = _INIT_HEADER.unpack_from(packet)
        command &= ~TYPE_INIT
        if channel != BROADCAST_CHANNEL and channel not in self._channels:
            return self._error(channel, ERR.INVALID_CHANNEL)
        if command == CTAPHID.CANCEL:
            if self._pending is not None and self._pending[0] == channel:
                self._pending[1].set()
            return None
        if self._busy_elsewhere(channel):
            return self._error(channel, ERR.CHANNEL_BUSY)
        if command == CTAPHID.INIT:
            self._assembling = None
        elif channel == BROADCAST_CHANNEL:
            return self._error(channel, ERR.INVALID_CHANNEL)
        elif self._pending is not None:  # the channel awaits the answer to its last request
            return self._error(channel, ERR.CHANNEL_BUSY)
        elif self._assembling is not None:  # a new message before the last one's end
            self._assembling = None
            return self._error(channel, ERR.INVALID_SEQ)
        if length > self.max_message_size:
            return self._error(channel, ERR.INVALID_LENGTH)
        message = _Message(channel, command, length)
        self._take(message, packet[_INIT_HEADER.size :])
        return None

    def _continuation(self, packet: bytes) -> None:
        channel, seq = _CONT_HEADER.unpack_from(packet)
        message = self._assembling
        if channel != BROADCAST_CHANNEL and channel not in self._channels:
            return self._error(channel, ERR.INVALID_CHANNEL)
        if message is None:
            return None
        if channel != message.channel:
            return self._error(channel, ERR.CHANNEL_BUSY)
        if seq != message.next_seq:
            self._assembling = None
            return self._error(channel, ERR.INVALID_SEQ)
        message.next_seq += 1
        self._take(message, packet[_CONT_HEADER.size :])
        return None

    def _busy_elsewhere(self, channel: int) -> bool:
        busy = self._assembling.channel if self._assembling else None
        busy = self._pending[0] if self._pending else busy
        return busy is not None and busy != channel

    def _take(self, message: _Message, body: bytes) -> None:
        """Add a packet's body to the message, and answer the message once it is complete."""
        message.data += body[: message.length - len(message.data)]
        if len(message.data) < message.length:
            self._assembling = message
            return
        self._assembling = None
        self._answer_message(message.channel, message.command, bytes(message.data))

    def _answer_message(self, channel: int, command: int, payload: bytes) -> None:
        match command:
            case CTAPHID.INIT:
                self._init(channel, payload)
            case CTAPHID.PING:
                self._send(channel, command, payload)
            case CTAPHID.WINK:
                self._send(channel, command, b"")
            case CTAPHID.CBOR | CTAPHID.MSG if self._speaks(command):
                event = threading.Event()
                self._pending = (channel, event)
                worker = threading.Thread(
                    target=self._request, args=(channel, command, payload, event), daemon=True
                )
                worker.start()
            case _:
                self._error(channel, ERR.INVALID_COMMAND)

    def _init(self, channel: int, nonce: bytes) -> None:
        if len(nonce) != 8:
            return self._error(channel, ERR.INVALID_LENGTH)
        if channel == BROADCAST_CHANNEL:
            allocated = next(self._channel_ids)
            self._channels.add(allocated)
        else:
            allocated = channel
        capabilities = self.device.capabilities | CAPABILITY.WINK
        answer = nonce + struct.pack(
            ">IBBBBB", allocated, PROTOCOL_VERSION, *DEVICE_VERSION, capabilities
        )
        self._send(channel, CTAPHID.INIT, answer)
        return None

    def _speaks(self, command: int) -> bool:
        """Whether the device takes CBOR (CTAP2) or MSG (CTAP1/U2F) messages, by its
        capabilities: NMSG means it takes no MSG (§11.2.9.1.3)."""
        capabilities = self.device.capabilities
        if command == CTAPHID.CBOR:
            return bool(capabilities & CAPABILITY.CBOR)
        return not capabilities & CAPABILITY.NMSG

    def _request(self, channel: int, command: int, payload: bytes, event: threading.Event) -> None:
        """Run on a worker thread: the device's answer to one CBOR or MSG request."""

        def keepalive(status: STATUS) -> None:
            self._send(channel, CTAPHID.KEEPALIVE, bytes([status]))

        try:
            answer = self.device.call(command, payload, event, keepalive)
        except Exception as error:
            with self._lock:
                self._pending = None
            self._answers.put(error)
            return
        with self._lock:
            self._pending = None
            # A U2F response APDU has no status for "cancelled": MSG is answered as it came.
            if event.is_set() and command == CTAPHID.CBOR:
                answer = bytes([ERR.KEEPALIVE_CANCEL])
            self._send(channel, command, answer)

    def _error(self, channel: int, code: int) -> None:
        self._send(channel, CTAPHID.ERROR, bytes([code]))

    def _send(self, channel: int, command: int, payload: bytes) -> None:
        """Queue ``payload`` as an initialization packet and as many continuations as it needs."""
        first = self.packet_size - _INIT_HEADER.size
        rest = self.packet_size - _CONT_HEADER.size
        packets = [_INIT_HEADER.pack(channel, TYPE_INIT | command, len(payload)) + payload[:first]]
        for seq, start in enumerate(range(first, len(payload), rest)):
            packets.append(_CONT_HEADER.pack(channel, seq) + payload[start : start + rest])
        for packet in packets:
            self._answers.put(packet.ljust(self.packet_size, b"\0"))


def soft_hid_device(device: CtapDevice | None = None) -> CtapHidDevice:
    """A real ``fido2.hid.CtapHidDevice`` over a :class:`SoftHidConnection` to ``device``.

    The descriptor is that of a USB key with 64-byte reports and a random serial number; the
    HID device has already allocated its channel with CTAPHID_INIT.

    :param device: the device behind it, CTAP2 or U2F (see :class:`SoftHidConnection`);
        default a fresh :class:`~virtual_authenticators.ctap.SoftCtapDevice`.
    """
    descriptor = HidDescriptor(
        path="soft-ctaphid",
        vid=0x1209,  # pid.codes, the open-source USB vendor id
        pid=0x2FA0,
        report_size_in=PACKET_SIZE,
        report_size_out=PACKET_SIZE,
        product_name="Soft CTAPHID key",
        serial_number=os.urandom(4).hex(),
    )
    connection = SoftHidConnection(SoftCtapDevice() if device is None else device)
    return CtapHidDevice(descriptor, connection)
