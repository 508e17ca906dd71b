"""Mail the target sends: an in-process SMTP sink (aiosmtpd) and the mailbox scenarios read.

The bundled server delivers over real SMTP to :class:`SmtpSink`; scenarios wait for a message
to an address with :meth:`Mailbox.wait_for`, take links out of it with :func:`link_in` and
tokens out of those with :func:`token_in`.
"""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller

from harness.errors import MailTimeout
from harness.redaction import Secret

URL_PATTERN = re.compile(r"https?://[^\s\"'<>]+")
VERIFY_EMAIL_PATH = "/account/verify-email/"
RESET_PASSWORD_PATH = "/account/reset-password/"


@dataclass(frozen=True)
class Mail:
    """One delivered message: the SMTP envelope's recipients and the parsed message."""

    recipients: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    @property
    def text(self) -> str:
        """The plain-text body (or the HTML one when there is no plain text)."""
        part = self.message.get_body(preferencelist=("plain", "html"))
        return part.get_content() if part is not None else ""


class Mailbox:
    """Thread-safe store of delivered mail, in arrival order."""

    def __init__(self) -> None:
        self._mail: list[Mail] = []
        self._arrived = threading.Condition()

    def deliver(self, mail: Mail) -> None:
        with self._arrived:
            self._mail.append(mail)
            self._arrived.notify_all()

    def to(self, address: str) -> list[Mail]:
        """Every message delivered to ``address`` so far."""
        address = address.lower()
        with self._arrived:
            return [m for m in self._mail if address in (r.lower() for r in m.recipients)]

    def wait_for(
        self, address: str, subject: str, *, after: int = 0, timeout: float = 10.0
    ) -> Mail:
        """The first message to ``address`` whose subject contains ``subject``.

        :param after: skip that many such messages (those seen before the action under test).
        :raises MailTimeout: none arrived within ``timeout`` seconds.
        """
        with self._arrived:
            return wait_for_subject(
                lambda: self.to(address), subject, after, timeout, self._arrived.wait
            )

    def count(self, address: str, subject: str) -> int:
        """How many messages to ``address`` have ``subject`` in their subject."""
        return len(with_subject(self.to(address), subject))

    def address_for(self, local_name: str) -> str:
        """The address of a test account called ``local_name``: the sink takes any address."""
        return f"{local_name}@example.com"


def with_subject(mails: list[Mail], subject: str) -> list[Mail]:
    """The messages of ``mails`` whose subject contains ``subject``, ignoring case."""
    return [m for m in mails if subject.lower() in m.subject.lower()]


def wait_for_subject(
    read: Callable[[], list[Mail]],
    subject: str,
    after: int,
    timeout: float,
    pause: Callable[[float], object],
) -> Mail:
    """Read mail with ``read`` until more than ``after`` messages have ``subject`` in their
    subject; the one after those. ``pause(seconds_left)`` waits between reads.

    :raises MailTimeout: none came within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        matches = with_subject(read(), subject)
        if len(matches) > after:
            return matches[after]
        left = deadline - time.monotonic()
        if left <= 0:
            raise MailTimeout(
                f"no mail with subject {subject!r} reached the test account within {timeout:.0f} s"
            )
        pause(left)


def link_in(mail: Mail, path: str) -> str:
    """The first link in ``mail`` whose URL contains ``path`` (its repr masked: links carry tokens).

    :raises LookupError: the message has no such link.
    """
    for url in URL_PATTERN.findall(mail.text):
        if path in url:
            return Secret(url.rstrip(".,;)"))
    raise LookupError(f"the mail {mail.subject!r} has no link to {path}")


def token_in(link: str) -> str:
    """The ``token`` query parameter of a mailed ``link`` (its repr masked).

    :raises LookupError: the link carries no token.
    """
    tokens = parse_qs(urlsplit(link).query).get("token")
    if not tokens:
        raise LookupError(f"the link to {urlsplit(link).path} carries no token")
    return Secret(tokens[0])


def verification_link(mailbox: Mailbox, address: str) -> str:
    """The link of the first email-verification mail to ``address``.

    :raises MailTimeout: no such mail arrived in time.
    :raises LookupError: the mail has no verification link.
    """
    return link_in(mailbox.wait_for(address, "Verify your email"), VERIFY_EMAIL_PATH)


class _SinkHandler:
    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.mailbox.deliver(Mail(tuple(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class SmtpSink:
    """An SMTP server on ``localhost`` that keeps every message in :attr:`mailbox`."""

    def __init__(self) -> None:
        self.mailbox = Mailbox()
        self.port = _free_port()
        self._controller = Controller(
            _SinkHandler(self.mailbox), hostname="localhost", port=self.port
        )

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


def _free_port() -> int:
    # aiosmtpd's controller checks its server by connecting to the port it was given, so it
    # cannot be given port 0; take a free one from the kernel instead.
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]
