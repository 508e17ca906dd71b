"""The IMAP mailbox reads a real IMAP server (pymap, in memory) as scenarios read the SMTP sink."""

from __future__ import annotations

import datetime
import imaplib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from ipaddress import ip_address
from pathlib import Path
from urllib.parse import quote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from harness import doctor
from harness.errors import MailboxError, MailTimeout
from harness.imap import ImapMailbox, mailbox_from_environment
from harness.redaction import known_secrets

USER = "tester@mail.example"
# Characters a URL must percent-encode, so that every test also checks the decoding.
PASSWORD = "p@ss:w/rd %20#?"
ADDRESS = "tester@mail.example"
STARTUP_TIMEOUT = 15.0


@dataclass
class ImapServer:
    """A pymap server on ``host``:``port`` whose one user is ``user`` with ``password``."""

    host: str
    port: int
    user: str
    password: str = field(repr=False)
    # pymap hashes passwords slowly (PBKDF2, 500,000 rounds): deliveries share one login.
    _delivery: imaplib.IMAP4 | None = field(default=None, repr=False)
    _delivery_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def url(self, *, password: str | None = None, folder: str = "") -> str:
        secret = quote(self.password if password is None else password, safe="")
        return f"imap://{quote(self.user, safe='')}:{secret}@{self.host}:{self.port}/{folder}"

    def deliver(self, to: str, subject: str, *, headers: dict[str, str] | None = None) -> None:
        """Put a message into INBOX, as the server's delivery agent would (IMAP APPEND)."""
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "index@example.com", to, subject
        for name, value in (headers or {}).items():
            message[name] = value
        message.set_content("Go to http://localhost:1/account/verify-email/?token=abc.")
        with self._delivery_lock:
            if self._delivery is None:
                self._delivery = imaplib.IMAP4(self.host, self.port, timeout=5)
                self._delivery.login(self.user, self.password)
            self._delivery.append("INBOX", None, None, bytes(message))

    def close(self) -> None:
        """Log out the delivering connection."""
        if self._delivery is not None:
            self._delivery.logout()


@contextmanager
def running_pymap(
    host: str, password: str, folder: Path, *, tls: tuple[Path, Path] | None = None
) -> Iterator[ImapServer]:
    """pymap's in-memory backend on a free port of ``host``, logging to ``folder``, in clear or
    offering STARTTLS with ``tls``'s certificate and key files; stopped on leaving."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        port = probe.getsockname()[1]
    log = folder / "pymap.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from pymap.main import main; main()",
                *("--host", host, "--port", str(port)),
                *(("--cert", str(tls[0]), "--key", str(tls[1])) if tls else ("--no-tls",)),
                *("--no-service", "admin", "--no-service", "managesieve"),
                *("dict", "--demo-user", USER, "--demo-password", password),
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            try:
                socket.create_connection((host, port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"pymap did not start: {log.read_text()}") from None
                time.sleep(0.05)
        yield ImapServer(host, port, USER, password)
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop pymap (its clients' connections with it)."""
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ImapServer]:
    """One pymap server for the module; each test uses addresses of its own."""
    with running_pymap("127.0.0.1", PASSWORD, tmp_path_factory.mktemp("pymap")) as server:
        yield server
        server.close()


@pytest.fixture
def mailbox(server: ImapServer) -> Iterator[ImapMailbox]:
    mailbox = ImapMailbox(server.url(), ADDRESS, poll_interval=0.05)
    yield mailbox
    mailbox.close()


@pytest.fixture
def address(mailbox: ImapMailbox, request: pytest.FixtureRequest) -> str:
    """A plus-address of the mailbox no other test writes to."""
    return mailbox.address_for(request.node.name.replace("_", "")[-40:].lower())


def test_mail_to_a_plus_address_is_found(
    server: ImapServer, mailbox: ImapMailbox, address: str
) -> None:
    server.deliver(address, "Verify your email")
    mail = mailbox.wait_for(address, "Verify your email", timeout=5)
    assert mail.subject == "Verify your email"
    assert address in mail.recipients
    assert "/account/verify-email/?token=abc" in mail.text


def test_address_and_subject_match_ignoring_case(
    server: ImapServer, mailbox: ImapMailbox, address: str
) -> None:
    server.deliver(address.upper(), "Verify your email")
    assert mailbox.wait_for(address, "VERIFY YOUR", timeout=5).subject == "Verify your email"


def test_mail_naming_the_address_only_in_delivered_to_is_found(
    server: ImapServer, mailbox: ImapMailbox, address: str
) -> None:
    server.deliver("undisclosed-recipients:;", "Password reset", headers={"Delivered-To": address})
    assert mailbox.to(address)[0].subject == "Password reset"


def test_mail_to_a_longer_address_containing_this_one_is_not_its(
    server: ImapServer, mailbox: ImapMailbox, address: str
) -> None:
    server.deliver("x" + address, "Verify your email")
    server.deliver(address + ".org", "Verify your email")
    assert mailbox.to(address) == []


def test_after_skips_the_mail_counted_before_the_action(
    server: ImapServer, mailbox: ImapMailbox, address: str
) -> None:
    server.deliver(address, "Password reset", headers={"X-Attempt": "1"})
    first = mailbox.wait_for(address, "Password reset", timeout=5)
    assert first.message["X-Attempt"] == "1"
    before = mailbox.count(address, "password reset")
    server.deliver(address, "Password reset", headers={"X-Attempt": "2"})
    mail = mailbox.wait_for(address, "Password reset", after=before, timeout=5)
    assert before == 1
    assert mail.message["X-Attempt"] == "2"


def test_count_counts_only_mail_to_the_address_with_the_subject(
    server: ImapServer, mailbox: ImapMailbox, address: str
) -> None:
    server.deliver(address, "Verify your email")
    server.deliver(address, "Password reset")
    server.deliver(mailbox.address_for("someone-else"), "Password reset")
    mailbox.wait_for(address, "Password reset", timeout=5)
    assert mailbox.count(address, "Password reset") == 1


def test_mail_that_never_comes_times_out_with_one_line(mailbox: ImapMailbox, address: str) -> None:
    with pytest.raises(MailTimeout) as raised:
        mailbox.wait_for(address, "Verify your email", timeout=0.3)
    assert str(raised.value) == (
        "no mail with subject 'Verify your email' reached the test account within 0 s"
    )


def test_waiting_scenario_gets_mail_that_arrives_later(
    server: ImapServer, mailbox: ImapMailbox, address: str
) -> None:
    timer = threading.Timer(0.5, server.deliver, (address, "Verify your email"))
    timer.start()
    try:
        assert mailbox.wait_for(address, "Verify your email", timeout=10).subject
    finally:
        timer.join()


def test_reading_leaves_the_message_unread(
    server: ImapServer, mailbox: ImapMailbox, address: str
) -> None:
    server.deliver(address, "Verify your email")
    mailbox.wait_for(address, "Verify your email", timeout=5)
    connection = imaplib.IMAP4(server.host, server.port, timeout=5)
    try:
        connection.login(server.user, server.password)
        connection.select("INBOX", readonly=True)
        _, found = connection.search(None, "UNSEEN", "TO", f'"{address}"')
    finally:
        connection.logout()
    assert len(found[0].split()) == 1


def test_reading_goes_on_after_the_connection_drops(
    server: ImapServer, mailbox: ImapMailbox, address: str
) -> None:
    server.deliver(address, "Verify your email")
    assert mailbox.count(address, "Verify your email") == 1
    # As a server closing an idle connection would.
    assert mailbox._connection is not None
    mailbox._connection.shutdown()
    assert mailbox.count(address, "Verify your email") == 1


def test_wrong_password_is_one_line_without_the_password(server: ImapServer) -> None:
    mailbox = ImapMailbox(server.url(password="not-the-password"), ADDRESS)
    with pytest.raises(MailboxError) as raised:
        mailbox.check()
    message = str(raised.value)
    assert message == (
        "the IMAP server 127.0.0.1 refused the login of 'tester@mail.example'"
        " ([AUTHENTICATIONFAILED] Invalid authentication credentials);"
        " check the user and password in HARNESS_IMAP_URL"
    )
    assert "not-the-password" not in message


def test_unreachable_server_is_one_line() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    mailbox = ImapMailbox(f"imap://u:secret-pw@127.0.0.1:{closed_port}/", ADDRESS)
    with pytest.raises(MailboxError) as raised:
        mailbox.to(ADDRESS)
    assert str(raised.value) == (
        f"cannot reach the IMAP server 127.0.0.1:{closed_port} (Connection refused);"
        " check the host and port in HARNESS_IMAP_URL and that the server is up"
    )


def test_missing_folder_is_named(server: ImapServer) -> None:
    mailbox = ImapMailbox(server.url(folder="No%20such"), ADDRESS)
    with pytest.raises(MailboxError, match=r"cannot open the folder 'No such'"):
        mailbox.check()


def test_non_ascii_password_logs_in(tmp_path: Path) -> None:
    # LOGIN carries ASCII only; this password goes by SASL PLAIN.
    with (
        running_pymap("127.0.0.1", "pässwörd-ü", tmp_path) as server,
        closing(ImapMailbox(server.url(), ADDRESS)) as mailbox,
    ):
        assert mailbox.check() == 0


HOST = "127.0.0.1"
"""Where the servers of the tests below listen; the mailboxes are told it is another machine
(``on_this_machine``), where the harness insists on TLS, so no test talks beyond localhost."""


def elsewhere(host: str) -> bool:
    return False


def test_plain_imap_to_another_machine_without_starttls_is_refused(tmp_path: Path) -> None:
    with running_pymap(HOST, PASSWORD, tmp_path) as server, pytest.raises(MailboxError) as raised:
        ImapMailbox(server.url(), ADDRESS, on_this_machine=elsewhere).check()
    assert str(raised.value) == (
        f"the IMAP server {HOST} offers no STARTTLS, and the harness sends no password in"
        " clear beyond this machine; use imaps:// in HARNESS_IMAP_URL (or a server that offers"
        " STARTTLS)"
    )


def test_plain_imap_to_another_machine_logs_in_after_starttls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    certificate = write_certificate(tmp_path, HOST)
    # The certificate's own file as the trusted roots: the mailbox checks it like any other.
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    with (
        running_pymap(HOST, PASSWORD, tmp_path, tls=certificate) as server,
        closing(ImapMailbox(server.url(), ADDRESS, on_this_machine=elsewhere)) as mailbox,
    ):
        assert mailbox.check() == 0


def test_server_certificate_this_machine_does_not_trust_is_refused(tmp_path: Path) -> None:
    certificate = write_certificate(tmp_path, HOST)
    with (
        running_pymap(HOST, PASSWORD, tmp_path, tls=certificate) as server,
        pytest.raises(MailboxError) as raised,
    ):
        ImapMailbox(server.url(), ADDRESS, on_this_machine=elsewhere).check()
    assert str(raised.value) == (
        f"the IMAP server {HOST}:{server.port} has a certificate this machine does not trust"
        " (self-signed certificate); give the server a trusted certificate, or name its CA's"
        " file in SSL_CERT_FILE"
    )


def write_certificate(folder: Path, host: str) -> tuple[Path, Path]:
    """A self-signed certificate for the IP address ``host``: its file and its key's file."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ip_address(host))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    certificate_file, key_file = folder / "imap.crt", folder / "imap.key"
    certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certificate_file, key_file


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://u:secret-pw@mail.example/", "HARNESS_IMAP_URL has the scheme 'https'"),
        ("mail.example", "HARNESS_IMAP_URL has the scheme '(none)'"),
        ("imaps://u:secret-pw@/INBOX", "HARNESS_IMAP_URL names no host"),
        ("imaps://u:secret-pw@mail.example:99999/", "HARNESS_IMAP_URL has a port that is not"),
        ("imaps://u:secret/pw@mail.example/", "HARNESS_IMAP_URL has a port that is not"),
        ("imaps://mail.example/INBOX", "HARNESS_IMAP_URL names no user and password"),
        ("imaps://u@mail.example/INBOX", "HARNESS_IMAP_URL names no user and password"),
    ],
)
def test_malformed_url_is_one_line_without_the_password(url: str, problem: str) -> None:
    with pytest.raises(MailboxError) as raised:
        ImapMailbox(url, ADDRESS)
    assert str(raised.value).startswith(problem)
    assert "\n" not in str(raised.value)
    assert "secret" not in str(raised.value)


def test_address_for_plus_addresses_the_mail_address() -> None:
    mailbox = ImapMailbox("imaps://u:pw@mail.example", "tester@mail.example")
    assert mailbox.address_for("t0a1b2c") == "tester+t0a1b2c@mail.example"


def test_location_names_the_decoded_user_the_host_and_inbox_by_default() -> None:
    mailbox = ImapMailbox("imaps://u%40x:pw@Mail.Example", ADDRESS)
    assert mailbox.location == "u@x@mail.example/INBOX"


def test_password_is_recorded_as_a_secret_for_reports() -> None:
    ImapMailbox("imaps://u:recorded%2Fpassword@mail.example/", ADDRESS)
    assert "recorded/password" in known_secrets()


def test_environment_without_imap_url_has_no_mailbox() -> None:
    assert mailbox_from_environment({"HARNESS_MAIL_ADDRESS": ADDRESS}) is None


def test_imap_url_without_mail_address_is_one_line() -> None:
    with pytest.raises(MailboxError) as raised:
        mailbox_from_environment({"HARNESS_IMAP_URL": "imaps://u:pw@mail.example/"})
    assert str(raised.value) == (
        "HARNESS_IMAP_URL is set but HARNESS_MAIL_ADDRESS is not; set HARNESS_MAIL_ADDRESS to"
        " the address that mailbox receives, such as tester@mail.example"
    )


def test_malformed_mail_address_is_one_line() -> None:
    with pytest.raises(MailboxError, match=r"^HARNESS_MAIL_ADDRESS 'tester' is not an email"):
        ImapMailbox("imaps://u:pw@mail.example/", "tester")


def test_doctor_reports_a_reachable_mailbox_with_its_message_count(
    server: ImapServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_IMAP_URL", server.url())
    monkeypatch.setenv("HARNESS_MAIL_ADDRESS", ADDRESS)
    line = doctor.format_finding(doctor.check_mail("https://staging.example"))
    assert line.startswith(
        "ok       mail: IMAP mailbox tester@mail.example@127.0.0.1/INBOX reachable ("
    )
    assert PASSWORD not in line


def test_doctor_reports_a_refused_login_with_the_fix(
    server: ImapServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_IMAP_URL", server.url(password="not-the-password"))
    monkeypatch.setenv("HARNESS_MAIL_ADDRESS", ADDRESS)
    line = doctor.format_finding(doctor.check_mail("https://staging.example"))
    assert line == (
        "missing  mail: the IMAP server 127.0.0.1 refused the login of 'tester@mail.example'"
        " ([AUTHENTICATIONFAILED] Invalid authentication credentials)."
        " Fix: check the user and password in HARNESS_IMAP_URL"
    )
