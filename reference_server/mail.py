"""Outgoing mail: an injectable sender, SMTP by default, a log line when no SMTP is set.

Links in messages are absolute URLs built from the request's host URL. A sending failure is
logged in one line and never fails the request. No message body is ever logged, because
bodies hold tokens and recovery links.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from typing import Protocol

log = logging.getLogger("reference_server.mail")

FROM_ADDRESS = "Reference package index <noreply@localhost>"


class MailSender(Protocol):
    """Something that delivers one message or raises."""

    def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` (its To, From and Subject headers are set)."""


class SmtpMailSender:
    """Delivers over plain SMTP to ``host:port`` (a local sink in tests and the harness)."""

    def __init__(self, host: str, port: int, timeout: float = 10.0) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout

    def send(self, message: EmailMessage) -> None:
        """Open a connection, send, close."""
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.send_message(message)


class LogOnlyMailSender:
    """Used without ``--smtp``: logs who would get which kind of mail, nothing more."""

    def send(self, message: EmailMessage) -> None:
        """Log one line without the body (it holds links with tokens)."""
        log.info("mail not sent (no --smtp): %r to %s", message["Subject"], message["To"])


def build_message(to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text message from the index to ``to``."""
    message = EmailMessage()
    message["From"] = FROM_ADDRESS
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message


def send_mail(sender: MailSender, to: str, subject: str, body: str) -> bool:
    """Send one message; on failure log one line and return False instead of raising."""
    try:
        sender.send(build_message(to, subject, body))
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("could not send %r to %s: %s", subject, to, exc.__class__.__name__)
        return False
    return True
