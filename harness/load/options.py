"""What ``harness load`` accepts before anything is sent: durations, journey names, numbers,
and which hosts it may load at all.

Every refusal here is one line (a :class:`LoadRefusal`), raised before the first request.
"""

from __future__ import annotations

import argparse
import ipaddress
import re
from urllib.parse import urlsplit

from harness.errors import HarnessError
from harness.load.flows import JOURNEYS
from harness.safety import production_refusal

_DURATION = re.compile(r"(?:(?P<hours>\d+)h)?(?:(?P<minutes>\d+)m)?(?:(?P<seconds>\d+)s)?")


class LoadRefusal(HarnessError):
    """``harness load`` will not run as asked; the message says why in one line."""


def duration(text: str) -> int:
    """Seconds in a Locust-style duration: ``30s``, ``2m``, ``1h30m`` or plain seconds (``45``).

    :raises LoadRefusal: not such a duration, or zero.
    """
    value = text.strip().lower()
    match = _DURATION.fullmatch(value)
    if value.isdigit():
        seconds = int(value)
    elif value and match is not None:
        parts = {name: int(number or 0) for name, number in match.groupdict().items()}
        seconds = parts["hours"] * 3600 + parts["minutes"] * 60 + parts["seconds"]
    else:
        raise LoadRefusal(f"--duration must be like 30s, 2m, 1h30m or plain seconds, not {text!r}")
    if seconds < 1:
        raise LoadRefusal(f"--duration must be 1 second or more, not {text!r}")
    return seconds


def users(text: str) -> int:
    """A number of users: a whole number of 1 or more.

    :raises LoadRefusal: it is not."""
    if not text.strip().isdigit() or int(text) < 1:
        raise LoadRefusal(f"--users must be a whole number of 1 or more, not {text!r}")
    return int(text)


def spawn_rate(text: str) -> float:
    """Users started per second: a number above 0.

    :raises LoadRefusal: it is not."""
    try:
        rate = float(text)
    except ValueError:
        rate = float("nan")
    if not rate > 0 or rate == float("inf"):
        raise LoadRefusal(f"--spawn-rate must be a number above 0, not {text!r}")
    return rate


def journeys(text: str) -> tuple[str, ...]:
    """Comma-separated journey names, each one of :data:`~harness.load.flows.JOURNEYS`, in
    the order given, without repeats.

    :raises LoadRefusal: an unknown name, or none.
    """
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in JOURNEYS]
    if unknown or not names:
        raise LoadRefusal(
            f"--journeys: unknown journey {unknown[0] if unknown else text!r}; choose from"
            f" {', '.join(JOURNEYS)}"
        )
    return tuple(dict.fromkeys(names))


def port(text: str) -> int:
    """An argparse type: a TCP port number."""
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"a port from 1 to 65535, not {text!r}")
    return int(text)


def workers(text: str) -> int:
    """An argparse type: a number of workers, 1 or more."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a whole number of 1 or more, not {text!r}")
    return int(text)


def target_refusal(base_url: str | None, owned: bool) -> str | None:
    """Why no load may be sent to ``base_url`` (None: the bundled server on this machine), or
    None when it may.

    The production index is refused whatever the flags; any host but this machine
    (``localhost``, 127.0.0.0/8, ``::1``) only with ``owned`` (``--i-own-this-server``).
    """
    if not base_url:
        return None
    parts = urlsplit(base_url.strip())
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        return f"--base-url needs an http:// or https:// URL with a host, not {base_url!r}"
    if production_refusal(base_url) is not None:
        return f"{host} is the production index: harness load never sends load there"
    if not owned and not is_this_machine(host):
        return (
            f"{host} is not this machine: load only a server you own, and say so with"
            " --i-own-this-server"
        )
    return None


def is_this_machine(host: str) -> bool:
    """Whether ``host`` is ``localhost`` or a loopback address (127.0.0.0/8, ``::1``)."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
