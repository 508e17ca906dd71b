"""The software security key as a USB HID device the kernel lists: :class:`UhidKey` plugs a
CTAPHID connection (a :class:`~virtual_authenticators.ctaphid.SoftHidConnection`) into Linux
through ``/dev/uhid``, so that an unmodified browser, or python-fido2's own Linux backend, finds
a ``/dev/hidrawN`` security key and talks to it: the fully automated real-browser path.

Contract: while a :class:`UhidKey` is entered the kernel has a USB HID device with the FIDO
report descriptor (:data:`FIDO_REPORT_DESCRIPTOR`, 64-byte reports both ways, no report ids).
Each output report a host writes to it reaches ``connection.write_packet`` as one 64-byte
packet; each packet ``connection.read_packet`` gives back becomes one input report. Leaving the
``with`` block unplugs the key (and so does the process ending: the kernel destroys a uhid
device when its file descriptor is closed).

It needs Linux, the ``uhid`` module (``modprobe uhid``) and read-write access to ``/dev/uhid``:
root, or a udev rule such as ``KERNEL=="uhid", GROUP="plugdev", MODE="0660"`` for a group you
are in. A browser then also needs to open the new ``/dev/hidrawN``: systemd (244 and later)
grants FIDO devices to the logged-in user (``60-fido-id.rules``), otherwise use python-fido2's
or libfido2's ``70-u2f.rules``. Where ``/dev/uhid`` is missing or not yours,
:func:`uhid_unavailable` says why in one line and :class:`UhidUnavailable` is raised.

The kernel side could not be run where this module was written (no ``/dev/uhid``, no hidraw):
the event framing and the threads are tested over a socketpair standing in for ``/dev/uhid``,
the kernel path by a test that skips where :func:`uhid_unavailable` gives a reason (that
machine's kernel was built without ``CONFIG_UHID``).

The ABI is ``include/uapi/linux/uhid.h``: ``struct uhid_event { __u32 type; union {...} u; }``,
packed, in the machine's byte order, written whole (:data:`EVENT_SIZE` bytes, the union's
largest member being ``uhid_create2_req``), one event per ``read`` and per ``write``.

Report ids: the descriptor declares none, so a host writes ``0x00`` then the 64-byte report to
hidraw (``hidraw_send_report``: "the first byte of the report buffer is expected to be a report
number"); hidraw passes the buffer unchanged to ``hid_hw_output_report``, and uhid's
``uhid_hid_output_raw`` copies it unchanged into ``UHID_OUTPUT``. A USB key never sees that
byte because ``usbhid_output_report`` drops a leading zero byte; :func:`host_report` does the
same. The other way, ``hid_report_raw_event`` hands ``UHID_INPUT2`` data to hidraw as it is, so
input reports are sent without a report-id byte (drivers/hid/hidraw.c, uhid.c, hid-core.c,
usbhid/hid-core.c; danstiner/rust-u2f's uhid daemon also takes the first byte of an output
event as the report number).
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import select
import stat
import struct
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from types import TracebackType
from typing import Protocol

from fido2.ctap import CtapError

from virtual_authenticators.ctap import SoftCtapDevice
from virtual_authenticators.ctaphid import SoftHidConnection

logger = logging.getLogger(__name__)

UHID_PATH = "/dev/uhid"
"""The misc character device of the kernel's uhid module."""
DATA_MAX = 4096
"""``UHID_DATA_MAX`` (and ``HID_MAX_DESCRIPTOR_SIZE``): the room for a report or descriptor."""
BUS_USB = 0x03
"""``BUS_USB`` of ``linux/input.h``: the device shows as a USB key, as real ones are."""
REPORT_SIZE = 64
"""The input and output report size :data:`FIDO_REPORT_DESCRIPTOR` declares."""
DEVICE_VERSION = 0x0100
"""The device release number (a USB ``bcdDevice``) the device is created with: 1.00."""


class EventType(IntEnum):
    """``enum uhid_event_type``; the legacy numbers 0, 7 and 8 are left out."""

    DESTROY = 1
    START = 2
    STOP = 3
    OPEN = 4
    CLOSE = 5
    OUTPUT = 6
    GET_REPORT = 9
    GET_REPORT_REPLY = 10
    CREATE2 = 11
    INPUT2 = 12
    SET_REPORT = 13
    SET_REPORT_REPLY = 14


class ReportType(IntEnum):
    """``enum uhid_report_type``."""

    FEATURE = 0
    OUTPUT = 1
    INPUT = 2


# "=": native byte order with standard sizes and no padding, as the packed structs are.
_TYPE = struct.Struct("=I")
_CREATE2 = struct.Struct(f"=I128s64s64sHHIIII{DATA_MAX}s")
_INPUT2 = struct.Struct(f"=IH{DATA_MAX}s")
_OUTPUT = struct.Struct(f"=I{DATA_MAX}sHB")
_GET_REPORT = struct.Struct("=IIBB")
_GET_REPORT_REPLY = struct.Struct(f"=IIHH{DATA_MAX}s")
_SET_REPORT = struct.Struct(f"=IIBBH{DATA_MAX}s")
_SET_REPORT_REPLY = struct.Struct("=IIH")

EVENT_SIZE = _CREATE2.size
"""``sizeof(struct uhid_event)``: 4 + 4372 = 4376 bytes."""

# fmt: off
FIDO_REPORT_DESCRIPTOR = bytes(
    [
        0x06, 0xD0, 0xF1,  # Usage Page (FIDO Alliance, 0xF1D0)
        0x09, 0x01,  # Usage (CTAPHID)
        0xA1, 0x01,  # Collection (Application)
        0x09, 0x20,  # Usage (Input Report Data)
        0x15, 0x00,  # Logical Minimum (0)
        0x26, 0xFF, 0x00,  # Logical Maximum (255)
        0x75, 0x08,  # Report Size (8)
        0x95, REPORT_SIZE,  # Report Count (64)
        0x81, 0x02,  # Input (Data, Var, Abs)
        0x09, 0x21,  # Usage (Output Report Data)
        0x15, 0x00,  # Logical Minimum (0)
        0x26, 0xFF, 0x00,  # Logical Maximum (255)
        0x75, 0x08,  # Report Size (8)
        0x95, REPORT_SIZE,  # Report Count (64)
        0x91, 0x02,  # Output (Data, Var, Abs)
        0xC0,  # End Collection
    ]
)
# fmt: on
"""The HID report descriptor of CTAP 2.1 §11.2.8.1, as USB security keys publish it."""


class UhidUnavailable(Exception):
    """No virtual HID device can be made here; the message says why in one line."""


class HidConnection(Protocol):
    """The key's side of CTAPHID, one 64-byte report at a time (as :class:`SoftHidConnection`
    of :mod:`virtual_authenticators.ctaphid`)."""

    def write_packet(self, data: bytes) -> None:
        """Take one report from the host, without a report-id byte."""

    def read_packet(self) -> bytes:
        """The next report for the host; raises ``CtapError(TIMEOUT)`` when there is none."""

    def close(self) -> None:
        """Abort what the key is doing: it is being unplugged."""


ConnectionFactory = Callable[[], HidConnection]


@dataclass(frozen=True)
class KernelEvent:
    """One event read from ``/dev/uhid``, with the fields this module uses.

    :param type: an :class:`EventType`, or the number of a type this module does not know.
    :param data: for OUTPUT the bytes the host wrote, report number first (see
        :func:`host_report`); for SET_REPORT its data; otherwise empty.
    :param report_type: for OUTPUT, GET_REPORT and SET_REPORT, a :class:`ReportType` number.
    :param request_id: for GET_REPORT and SET_REPORT, the id their reply must carry.
    :param report_number: for GET_REPORT and SET_REPORT.
    """

    type: int
    data: bytes = b""
    report_type: int | None = None
    request_id: int | None = None
    report_number: int | None = None


def _padded(event: bytes) -> bytes:
    return event.ljust(EVENT_SIZE, b"\0")


def create2_event(
    descriptor: bytes,
    *,
    name: str,
    vendor: int,
    product: int,
    uniq: str = "",
    bus: int = BUS_USB,
    version: int = DEVICE_VERSION,
) -> bytes:
    """A ``UHID_CREATE2`` event: plug in a device with ``descriptor``.

    :param name: the product name hosts show; at most 127 bytes of UTF-8 (NUL-terminated).
    :param uniq: the serial number (hidraw's ``HIDIOCGRAWUNIQ``), at most 63 bytes.
    :raises ValueError: the descriptor is empty or longer than :data:`DATA_MAX`, or a string is
        too long.
    """
    if not 0 < len(descriptor) <= DATA_MAX:
        raise ValueError(f"a report descriptor is 1 to {DATA_MAX} bytes, not {len(descriptor)}")
    encoded_name, encoded_uniq = name.encode(), uniq.encode()
    if len(encoded_name) > 127 or len(encoded_uniq) > 63:
        raise ValueError("the name is at most 127 bytes and uniq at most 63, NUL-terminated")
    return _CREATE2.pack(
        EventType.CREATE2,
        encoded_name,
        b"",  # phys: a USB path means nothing for a virtual device
        encoded_uniq,
        len(descriptor),
        bus,
        vendor,
        product,
        version,
        0,  # country: not localised
        descriptor,
    )


def input2_event(report: bytes) -> bytes:
    """A ``UHID_INPUT2`` event: ``report`` arrives at the host as an input report.

    :raises ValueError: the report is longer than :data:`DATA_MAX`.
    """
    if len(report) > DATA_MAX:
        raise ValueError(f"an input report is at most {DATA_MAX} bytes, not {len(report)}")
    return _padded(_INPUT2.pack(EventType.INPUT2, len(report), report))


def destroy_event() -> bytes:
    """A ``UHID_DESTROY`` event: unplug the device."""
    return _padded(_TYPE.pack(EventType.DESTROY))


def get_report_reply_event(request_id: int, error: int) -> bytes:
    """A ``UHID_GET_REPORT_REPLY`` carrying no report; any ``error`` but 0 fails the request."""
    return _padded(_GET_REPORT_REPLY.pack(EventType.GET_REPORT_REPLY, request_id, error, 0, b""))


def set_report_reply_event(request_id: int, error: int) -> bytes:
    """A ``UHID_SET_REPORT_REPLY``; any ``error`` but 0 fails the request."""
    return _padded(_SET_REPORT_REPLY.pack(EventType.SET_REPORT_REPLY, request_id, error))


def parse_event(event: bytes) -> KernelEvent:
    """The event the kernel wrote, as read from ``/dev/uhid``; a short read is zero-padded.

    :raises ValueError: fewer than the four bytes of the event type.
    """
    if len(event) < _TYPE.size:
        raise ValueError(f"a uhid event starts with a 4-byte type, got {len(event)} bytes")
    event = _padded(event)
    (kind,) = _TYPE.unpack_from(event)
    match kind:
        case EventType.OUTPUT:
            _, data, size, rtype = _OUTPUT.unpack_from(event)
            return KernelEvent(EventType.OUTPUT, data[: min(size, DATA_MAX)], rtype)
        case EventType.GET_REPORT:
            _, request_id, rnum, rtype = _GET_REPORT.unpack_from(event)
            return KernelEvent(EventType.GET_REPORT, b"", rtype, request_id, rnum)
        case EventType.SET_REPORT:
            _, request_id, rnum, rtype, size, data = _SET_REPORT.unpack_from(event)
            return KernelEvent(
                EventType.SET_REPORT, data[: min(size, DATA_MAX)], rtype, request_id, rnum
            )
    try:
        return KernelEvent(EventType(kind))
    except ValueError:  # a type newer than this module
        return KernelEvent(kind)


def host_report(data: bytes) -> bytes | None:
    """The 64-byte report in the bytes of a ``UHID_OUTPUT`` event, or None if there is none.

    A leading zero byte is the report number of a device without report ids, and is dropped
    as ``usbhid_output_report`` drops it before a real key sees the report; a short report is
    zero-padded, as CTAPHID packets are.
    """
    report = data[1:] if data[:1] == b"\0" else data
    if not report or len(report) > REPORT_SIZE:
        return None
    return report.ljust(REPORT_SIZE, b"\0")


def _missing(path: str) -> str:
    return (
        f"{path} is missing: load the uhid module (modprobe uhid) on Linux;"
        " other systems have no virtual HID devices"
    )


def _forbidden(path: str) -> str:
    return (
        f"{path} is not writable: it needs root, or a udev rule giving you /dev/uhid"
        ' (KERNEL=="uhid", GROUP="plugdev", MODE="0660")'
    )


def uhid_unavailable(path: str = UHID_PATH) -> str | None:
    """The one-line reason a :class:`UhidKey` cannot be made through ``path``, or None."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return _missing(path)
    except OSError as error:
        return f"{path} cannot be examined: {error.strerror}"
    if not stat.S_ISCHR(mode):
        return f"{path} is not a character device, so not the kernel's uhid"
    if not os.access(path, os.R_OK | os.W_OK):
        return _forbidden(path)
    return None


class UhidKey:
    """A virtual USB security key, plugged in while the ``with`` block runs.

    On entering, ``connection_factory`` makes the key's connection and a ``UHID_CREATE2``
    event creates the device; one thread reads the kernel's events (START, STOP, OPEN and
    CLOSE are logged; each OUTPUT report goes to ``connection.write_packet``; GET_REPORT and
    SET_REPORT are refused with EIO, as a FIDO key has no feature reports), another moves
    ``connection.read_packet()`` answers to the kernel as ``UHID_INPUT2`` events. On leaving,
    the connection is closed, ``UHID_DESTROY`` unplugs the device and the file descriptor
    opened for it is closed. The answer thread may outlive the block by up to the
    connection's read timeout; it writes nothing once the block is left.

    :param connection_factory: makes the key's side of CTAPHID, once per ``with`` block.
    :param name: the product name hosts and browsers show.
    :param vendor: the USB vendor id; by default pid.codes', the open-source vendor id.
    :param product: the USB product id.
    :param path: the uhid character device to open.
    :param fd: an already-open file descriptor that speaks uhid events (one per read and
        write) in place of opening ``path``; it stays open, its owner closes it.
    """

    def __init__(
        self,
        connection_factory: ConnectionFactory,
        *,
        name: str = "Soft CTAPHID key (pypi-2fa harness)",
        vendor: int = 0x1209,
        product: int = 0x2FA0,
        path: str = UHID_PATH,
        fd: int | None = None,
    ) -> None:
        self.connection_factory = connection_factory
        self.name = name
        self.vendor = vendor
        self.product = product
        self.path = path
        self._given_fd = fd
        self._fd: int | None = None
        self._connection: HidConnection | None = None
        self._write_lock = threading.Lock()
        self._stopping = threading.Event()
        self._wake: tuple[int, int] | None = None
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> UhidKey:
        """Create the device.

        :raises UhidUnavailable: ``path`` is missing, not writable by this process, or cannot be
            opened.
        :raises OSError: the kernel refused the device.
        """
        connection = self.connection_factory()
        fd = None
        try:
            fd = self._given_fd if self._given_fd is not None else self._open()
            _write_event(fd, self._create2())
        except BaseException:
            connection.close()
            if fd is not None and self._given_fd is None:
                os.close(fd)
            raise
        self._fd, self._connection = fd, connection
        self._stopping = threading.Event()
        self._wake = os.pipe()
        self._threads = [
            threading.Thread(target=self._read_events, name="uhid-events", daemon=True),
            threading.Thread(target=self._send_answers, name="uhid-answers", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Unplug the device and stop the threads."""
        assert self._wake is not None and self._connection is not None
        events, answers = self._threads
        self._stopping.set()
        os.write(self._wake[1], b"\0")
        events.join()
        self._connection.close()
        with self._write_lock:
            fd, self._fd = self._fd, None
            assert fd is not None
            try:
                _write_event(fd, destroy_event())
            except OSError as error:
                logger.warning("uhid: could not destroy the device: %s", error)
            if self._given_fd is None:
                os.close(fd)
        for end in self._wake:
            os.close(end)
        # The answer thread waits in read_packet, at most the connection's read timeout.
        answers.join(timeout=1.0)

    def _open(self) -> int:
        try:
            return os.open(self.path, os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            raise UhidUnavailable(_missing(self.path)) from None
        except PermissionError:
            raise UhidUnavailable(_forbidden(self.path)) from None
        except OSError as error:  # ENODEV, say: a device node whose module cannot be loaded
            raise UhidUnavailable(f"{self.path} cannot be opened: {error.strerror}") from None

    def _create2(self) -> bytes:
        return create2_event(
            FIDO_REPORT_DESCRIPTOR,
            name=self.name,
            vendor=self.vendor,
            product=self.product,
            # A serial number of its own, so that browsers tell two running keys apart.
            uniq=os.urandom(4).hex(),
        )

    def _write(self, event: bytes) -> None:
        """Write ``event`` unless the key is being unplugged, never to a closed descriptor."""
        with self._write_lock:
            if self._fd is None or self._stopping.is_set():
                return
            try:
                _write_event(self._fd, event)
            except OSError as error:
                logger.warning("uhid: the kernel refused an event: %s", error)

    def _read_events(self) -> None:
        """Run on a thread: handle the kernel's events until the key is unplugged."""
        assert self._fd is not None and self._wake is not None
        fd, wake = self._fd, self._wake[0]
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        poller.register(wake, select.POLLIN)
        while True:
            ready = {ready_fd for ready_fd, _ in poller.poll()}
            if wake in ready:
                return
            try:
                data = os.read(fd, EVENT_SIZE)
            except OSError as error:
                logger.warning("uhid: reading events failed: %s", error)
                return
            if not data:  # the other end is gone
                return
            self._handle(parse_event(data))

    def _handle(self, event: KernelEvent) -> None:
        assert self._connection is not None
        match event.type:
            case EventType.OUTPUT:
                report = host_report(event.data)
                if event.report_type != ReportType.OUTPUT or report is None:
                    logger.debug("uhid: ignored an output of %d bytes", len(event.data))
                    return
                try:
                    self._connection.write_packet(report)
                except Exception:
                    logger.exception("uhid: the key refused a report")
            case EventType.GET_REPORT:
                assert event.request_id is not None
                self._write(get_report_reply_event(event.request_id, errno.EIO))
            case EventType.SET_REPORT:
                assert event.request_id is not None
                self._write(set_report_reply_event(event.request_id, errno.EIO))
            case _:
                logger.debug("uhid: event %r", event.type)

    def _send_answers(self) -> None:
        """Run on a thread: move the key's answers to the kernel as input reports."""
        assert self._connection is not None
        connection, stopping = self._connection, self._stopping
        while not stopping.is_set():
            try:
                packet = connection.read_packet()
            except CtapError as error:
                if error.code != CtapError.ERR.TIMEOUT:
                    logger.warning("uhid: the key failed to answer: %s", error)
                continue
            except Exception:
                logger.exception("uhid: the key failed to answer")
                continue
            self._write(input2_event(packet))


def _write_event(fd: int, event: bytes) -> None:
    written = os.write(fd, event)
    if written != len(event):
        raise OSError(errno.EIO, f"wrote {written} of the event's {len(event)} bytes")


def main(argv: list[str] | None = None) -> int:
    """Run a virtual security key until Ctrl-C: ``python -m virtual_authenticators.uhid``.

    :return: 0 once unplugged, 2 if no key can be plugged in here.
    """
    parser = argparse.ArgumentParser(
        prog="python -m virtual_authenticators.uhid",
        description="Plug the software security key into Linux as a USB HID key (needs uhid).",
    )
    parser.add_argument(
        "--u2f", action="store_true", help="a U2F-only key in place of the CTAP2 key"
    )
    parser.add_argument("--path", default=UHID_PATH, help=f"the uhid device (default {UHID_PATH})")
    args = parser.parse_args(argv)

    if args.u2f:
        try:
            from virtual_authenticators.u2f import SoftU2fDevice
        except ImportError as error:
            print(f"uhid: error: no U2F key in this checkout: {error}", file=sys.stderr)
            return 2
        device, kind = SoftU2fDevice(), "U2F"
    else:
        device, kind = SoftCtapDevice(), "CTAP2"

    # A short read timeout lets the answer thread notice the unplugging soon after Ctrl-C.
    key = UhidKey(lambda: SoftHidConnection(device, read_timeout=0.5), path=args.path)
    try:
        with key:
            print(
                f"A software {kind} security key, USB {key.vendor:04x}:{key.product:04x}"
                f" {key.name!r}, is plugged in through {key.path}; Ctrl-C unplugs it.",
                flush=True,
            )
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
    except UhidUnavailable as error:
        print(f"uhid: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
