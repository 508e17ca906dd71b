"""A staging server's mail, read from a real mailbox over IMAP.

The bundled server mails the harness's own SMTP sink (:mod:`harness.mail`); a staging server
mails real addresses. Two environment variables point the harness at one real mailbox:

- ``HARNESS_IMAP_URL``: ``imaps://USER:PASSWORD@HOST[:PORT]/FOLDER`` (TLS from the start,
  port 993 by default) or ``imap://USER:PASSWORD@HOST[:PORT]/FOLDER`` (port 143). User,
  password and folder are percent-decoded; the folder defaults to INBOX.
- ``HARNESS_MAIL_ADDRESS``: the address that mailbox receives, such as ``tester@mail.example``.
  Each test account gets a plus-address of it (``tester+t1a2b3c@mail.example``), so all their
  mail lands in the one mailbox and each account's is told apart by its recipient.

:class:`ImapMailbox` reads that mailbox with :class:`harness.mail.Mailbox`'s contract, so that
scenarios cannot tell the two apart.

The password never crosses the network in clear: with ``imap://`` the connection is upgraded
with STARTTLS, the server's certificate checked, and a server that does not offer STARTTLS is
refused, unless it is on this machine (``localhost`` or a loopback address), where the traffic
stays local and test servers seldom have a certificate anyone trusts; those are spoken to in
clear, without trying STARTTLS.

The harness only reads: the folder is opened read-only (EXAMINE) and messages are fetched with
``BODY.PEEK``, so no flag (``\\Seen``) is set and nothing is moved or deleted.

The standard library's :mod:`imaplib` does all of this (log in, examine, search, fetch);
imap-tools would add a dependency for conveniences this module does not need.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import imaplib
import ipaddress
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses
from functools import partial
from typing import TypeVar, cast
from urllib.parse import unquote, urlsplit

from harness.errors import MailboxError
from harness.mail import Mail, wait_for_subject, with_subject
from harness.redaction import Secret

URL_VARIABLE = "HARNESS_IMAP_URL"
ADDRESS_VARIABLE = "HARNESS_MAIL_ADDRESS"
DEFAULT_PORTS = {"imaps": 993, "imap": 143}
DEFAULT_FOLDER = "INBOX"
RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To")
POLL_INTERVAL = 0.5
SOCKET_TIMEOUT = 15.0
URL_FIX = f"set {URL_VARIABLE} to imaps://USER:PASSWORD@HOST[:PORT]/FOLDER, percent-encoded"

T = TypeVar("T")


@dataclass(frozen=True)
class _ImapUrl:
    scheme: str
    host: str
    port: int
    user: str
    password: Secret = field(repr=False)
    folder: str


class ImapMailbox:
    """The mail in one IMAP folder, read with the contract of :class:`harness.mail.Mailbox`.

    Every message in the folder counts, old ones too: test addresses are unique per account, so
    a count taken before an action and ``after=`` that count single out the mail the action
    sent, exactly as with the SMTP sink.

    Nothing connects until the first read (or :meth:`check`); then one connection serves every
    read, one at a time, and is opened again when it drops.

    :param url: ``imaps://USER:PASSWORD@HOST[:PORT]/FOLDER`` or ``imap://…`` (see the module).
    :param address: the address the mailbox receives; :meth:`address_for` plus-addresses it.
    :param poll_interval: seconds between looks at the folder while waiting for mail.
    :param on_this_machine: whether a host name is this machine's, where ``imap://`` may stay
        in clear; tests pass their own, to treat a server on localhost as a remote one.
    :raises MailboxError: the URL or the address is malformed.
    """

    def __init__(
        self,
        url: str,
        address: str,
        *,
        poll_interval: float = POLL_INTERVAL,
        on_this_machine: Callable[[str], bool] | None = None,
    ) -> None:
        self._url = _parse_url(url)
        self._on_this_machine = on_this_machine or _is_loopback
        self._local, self._domain = _split_address(address)
        self.poll_interval = poll_interval
        self._lock = threading.Lock()
        self._connection: imaplib.IMAP4 | None = None
        self._uid_validity: bytes | None = None
        # Fetched messages by UID, shared by every address: a message is fetched once.
        self._fetched: dict[int, Mail] = {}

    @property
    def location(self) -> str:
        """``user@host/FOLDER``, to name the mailbox in messages (no password)."""
        return f"{self._url.user}@{self._url.host}/{self._url.folder}"

    def address_for(self, local_name: str) -> str:
        """The address of a test account called ``local_name``: a plus-address of the mailbox's
        own address, so that its mail lands here."""
        return f"{self._local}+{local_name}@{self._domain}"

    def to(self, address: str) -> list[Mail]:
        """Every message in the folder to ``address`` (in To, Cc, Delivered-To or
        X-Original-To, compared case-insensitively), in arrival order.

        :raises MailboxError: the server cannot be reached or refuses the harness.
        """
        address = address.lower()
        with self._lock:
            uids = self._session(partial(_search, address=address))
            for uid in uids:
                if uid not in self._fetched:
                    mail = self._session(partial(_fetch, uid=uid))
                    if mail is not None:
                        self._fetched[uid] = mail
            return [
                self._fetched[uid]
                for uid in uids
                if uid in self._fetched and address in self._fetched[uid].recipients
            ]

    def wait_for(
        self, address: str, subject: str, *, after: int = 0, timeout: float = 10.0
    ) -> Mail:
        """The first message to ``address`` whose subject contains ``subject`` (ignoring case).

        :param after: skip that many such messages (those seen before the action under test).
        :raises MailTimeout: none arrived within ``timeout`` seconds.
        :raises MailboxError: the server cannot be reached or refuses the harness.
        """
        return wait_for_subject(
            lambda: self.to(address),
            subject,
            after,
            timeout,
            lambda left: time.sleep(min(self.poll_interval, left)),
        )

    def count(self, address: str, subject: str) -> int:
        """How many messages to ``address`` have ``subject`` in their subject."""
        return len(with_subject(self.to(address), subject))

    def check(self) -> int:
        """Connect, log in and open the folder now; return how many messages it holds.

        :raises MailboxError: the server cannot be reached or refuses the harness.
        """
        with self._lock:
            return self._session(_message_count)

    def close(self) -> None:
        """Log out; a later read connects again."""
        with self._lock:
            self._drop()

    def _session(self, operation: Callable[[imaplib.IMAP4], T]) -> T:
        """Run ``operation`` on the open connection, opening it first; if the connection has
        dropped, open a new one and run it once more."""
        try:
            return self._attempt(operation)
        except (imaplib.IMAP4.abort, OSError):
            # Servers close idle connections (after 30 minutes, say): once more, on a new one.
            self._drop()
        try:
            return self._attempt(operation)
        except (imaplib.IMAP4.abort, OSError) as error:
            self._drop()
            raise MailboxError(
                f"the connection to the IMAP server {self._url.host} dropped twice"
                f" ({_reason(error)})",
                "check that the server is up and reachable",
            ) from None

    def _attempt(self, operation: Callable[[imaplib.IMAP4], T]) -> T:
        if self._connection is None:
            self._connection = self._open()
        try:
            return operation(self._connection)
        except imaplib.IMAP4.abort:
            raise  # the connection dropped: the caller tries again
        except imaplib.IMAP4.error as error:
            raise MailboxError(
                f"the IMAP server {self._url.host} answered an error ({_reason(error)})",
                "use a server that speaks IMAP4rev1",
            ) from None

    def _open(self) -> imaplib.IMAP4:
        url = self._url
        try:
            connection = _connect(url)
            try:
                if url.scheme == "imap" and not self._on_this_machine(url.host):
                    _start_tls(connection, url)
                _log_in(connection, url)
                uid_validity = _examine(connection, url)
            except BaseException:
                _log_out(connection)
                raise
        except ssl.SSLCertVerificationError as error:
            raise MailboxError(
                f"the IMAP server {url.host}:{url.port} has a certificate this machine does not"
                f" trust ({error.verify_message})",
                "give the server a trusted certificate, or name its CA's file in SSL_CERT_FILE",
            ) from None
        except (OSError, imaplib.IMAP4.error) as error:
            raise MailboxError(
                f"cannot reach the IMAP server {url.host}:{url.port} ({_reason(error)})",
                f"check the host and port in {URL_VARIABLE} and that the server is up",
            ) from None
        if uid_validity != self._uid_validity:
            # UIDs name other messages now (the folder was rebuilt): forget what was fetched.
            self._fetched.clear()
            self._uid_validity = uid_validity
        return connection

    def _drop(self) -> None:
        if self._connection is not None:
            _log_out(self._connection)
            self._connection = None


def mailbox_from_environment(environ: Mapping[str, str]) -> ImapMailbox | None:
    """The mailbox ``HARNESS_IMAP_URL`` and ``HARNESS_MAIL_ADDRESS`` name, not yet connected;
    None when ``HARNESS_IMAP_URL`` is unset or empty.

    :raises MailboxError: the URL is malformed, or the address is missing or malformed.
    """
    url = environ.get(URL_VARIABLE, "").strip()
    if not url:
        return None
    address = environ.get(ADDRESS_VARIABLE, "").strip()
    if not address:
        raise MailboxError(
            f"{URL_VARIABLE} is set but {ADDRESS_VARIABLE} is not",
            f"set {ADDRESS_VARIABLE} to the address that mailbox receives, such as"
            " tester@mail.example",
        )
    return ImapMailbox(url, address)


def _parse_url(url: str) -> _ImapUrl:
    # Messages name the parts, never the URL as given: it holds the password.
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise MailboxError(
            f"{URL_VARIABLE} has the scheme {parts.scheme or '(none)'!r}, not imaps or imap",
            URL_FIX,
        )
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        raise MailboxError(f"{URL_VARIABLE} has a port that is not a number", URL_FIX) from None
    if not parts.hostname:
        raise MailboxError(f"{URL_VARIABLE} names no host", URL_FIX)
    if not parts.username or not parts.password:
        raise MailboxError(f"{URL_VARIABLE} names no user and password", URL_FIX)
    folder = unquote(parts.path.lstrip("/")) or DEFAULT_FOLDER
    if not folder.isascii():
        # imaplib speaks ASCII; other names need IMAP's modified UTF-7, not supported here.
        raise MailboxError(f"{URL_VARIABLE} names a folder outside ASCII", URL_FIX)
    return _ImapUrl(
        scheme=scheme,
        host=parts.hostname,
        port=port,
        user=unquote(parts.username),
        password=Secret(unquote(parts.password)),
        folder=folder,
    )


def _split_address(address: str) -> tuple[str, str]:
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain or any(c.isspace() for c in address.strip()):
        raise MailboxError(
            f"{ADDRESS_VARIABLE} {address!r} is not an email address",
            f"set {ADDRESS_VARIABLE} to the address the mailbox receives, such as"
            " tester@mail.example",
        )
    return local, domain


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _connect(url: _ImapUrl) -> imaplib.IMAP4:
    if url.scheme == "imaps":
        return imaplib.IMAP4_SSL(
            url.host, url.port, ssl_context=ssl.create_default_context(), timeout=SOCKET_TIMEOUT
        )
    return imaplib.IMAP4(url.host, url.port, timeout=SOCKET_TIMEOUT)


def _start_tls(connection: imaplib.IMAP4, url: _ImapUrl) -> None:
    if "STARTTLS" not in connection.capabilities:
        raise MailboxError(
            f"the IMAP server {url.host} offers no STARTTLS, and the harness sends no password"
            " in clear beyond this machine",
            f"use imaps:// in {URL_VARIABLE} (or a server that offers STARTTLS)",
        )
    connection.starttls(ssl.create_default_context())


def _log_in(connection: imaplib.IMAP4, url: _ImapUrl) -> None:
    try:
        if f"{url.user}{url.password}".isascii():
            connection.login(url.user, url.password)
        else:
            # LOGIN is ASCII only; SASL PLAIN carries UTF-8.
            credentials = f"\0{url.user}\0{url.password}".encode()
            connection.authenticate("PLAIN", lambda _challenge: credentials)
    except imaplib.IMAP4.abort:
        raise  # the connection dropped: not a refusal
    except imaplib.IMAP4.error as error:
        raise MailboxError(
            f"the IMAP server {url.host} refused the login of {url.user!r}"
            f" ({_reason(error).replace(url.password, '***')})",
            f"check the user and password in {URL_VARIABLE}",
        ) from None


def _examine(connection: imaplib.IMAP4, url: _ImapUrl) -> bytes | None:
    """Open ``url``'s folder read-only; its UIDVALIDITY."""
    status, data = connection.select(_quoted(url.folder), readonly=True)
    if status != "OK":
        raise MailboxError(
            f"the IMAP server {url.host} cannot open the folder {url.folder!r} ({_text(data)})",
            f"check the folder in {URL_VARIABLE} (INBOX when it names none)",
        )
    _, validity = connection.response("UIDVALIDITY")
    return validity[0] if validity and validity[0] else None


def _search(connection: imaplib.IMAP4, address: str) -> list[int]:
    """The UIDs of messages that may be to ``address``, in arrival order.

    The server's search matches substrings (``a@x`` finds ``aa@x``); :class:`Mail`'s
    recipients, compared exactly, settle it.
    """
    # NOOP first: some servers show messages delivered since the folder was opened only then.
    connection.noop()
    quoted = _quoted(address)
    status, data = connection.uid(
        "SEARCH",
        f"OR OR OR TO {quoted} CC {quoted} HEADER Delivered-To {quoted}"
        f" HEADER X-Original-To {quoted}",
    )
    if status != "OK":
        raise imaplib.IMAP4.error(f"UID SEARCH: {_text(data)}")
    return sorted(int(uid) for uid in b" ".join(d for d in data if d).split())


def _fetch(connection: imaplib.IMAP4, uid: int) -> Mail | None:
    """The message with ``uid``, or None when it is gone; BODY.PEEK leaves it unread."""
    status, data = connection.uid("FETCH", str(uid), "(BODY.PEEK[])")
    raw = next((item[1] for item in data if isinstance(item, tuple)), None)
    if status != "OK" or raw is None:
        return None
    message = cast(EmailMessage, email.message_from_bytes(raw, policy=email.policy.default))
    return Mail(_recipients(message), message)


def _recipients(message: EmailMessage) -> tuple[str, ...]:
    headers = [str(value) for name in RECIPIENT_HEADERS for value in message.get_all(name, [])]
    addresses = (address.lower() for _, address in getaddresses(headers) if address)
    return tuple(dict.fromkeys(addresses))


def _message_count(connection: imaplib.IMAP4) -> int:
    connection.noop()
    status, data = connection.search(None, "ALL")
    if status != "OK":
        raise imaplib.IMAP4.error(f"SEARCH: {_text(data)}")
    return len(b" ".join(d for d in data if d).split())


def _log_out(connection: imaplib.IMAP4) -> None:
    # The connection is being given up either way.
    with contextlib.suppress(imaplib.IMAP4.error, OSError):
        connection.logout()


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _reason(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return _text(error.args) or type(error).__name__


def _text(data: Iterable[object]) -> str:
    """The server's words in an imaplib reply or error, as one line without a final stop."""
    words = (d.decode(errors="replace") if isinstance(d, bytes) else str(d) for d in data if d)
    return " ".join(" ".join(words).split()).rstrip(".")
