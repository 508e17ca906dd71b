"""The SMTP sink receives real SMTP and the mailbox hands messages to waiting scenarios."""

import smtplib
import threading
from email.message import EmailMessage

import pytest

from harness.errors import MailTimeout
from harness.mail import SmtpSink, link_in, token_in, verification_link


@pytest.fixture
def sink():
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


def send(port: int, to: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "index@example.com", to, subject
    message.set_content(body)
    with smtplib.SMTP("localhost", port) as smtp:
        smtp.send_message(message)


def test_message_sent_over_smtp_reaches_the_mailbox(sink: SmtpSink) -> None:
    send(
        sink.port,
        "a@example.com",
        "Verify your email",
        "Go to http://localhost:1/account/verify-email/?token=abc.",
    )
    mail = sink.mailbox.wait_for("A@example.com", "verify your email", timeout=5)
    assert (
        link_in(mail, "/account/verify-email/")
        == "http://localhost:1/account/verify-email/?token=abc"
    )


def test_waiting_scenario_gets_mail_that_arrives_later(sink: SmtpSink) -> None:
    timer = threading.Timer(0.3, send, args=(sink.port, "b@example.com", "Password reset", "x"))
    timer.start()
    assert (
        sink.mailbox.wait_for("b@example.com", "Password reset", timeout=5).subject
        == "Password reset"
    )


def test_after_skips_mail_seen_before(sink: SmtpSink) -> None:
    send(sink.port, "c@example.com", "Recovery code used", "first")
    send(sink.port, "c@example.com", "Recovery code used", "second")
    assert (
        sink.mailbox.wait_for("c@example.com", "Recovery code used", after=1).text.strip()
        == "second"
    )
    assert sink.mailbox.count("c@example.com", "Recovery code used") == 2


def test_mail_that_never_comes_times_out_with_one_line(sink: SmtpSink) -> None:
    with pytest.raises(MailTimeout, match="no mail with subject 'Verify your email'"):
        sink.mailbox.wait_for("d@example.com", "Verify your email", timeout=0.2)


def test_link_in_refuses_mail_without_the_link(sink: SmtpSink) -> None:
    send(sink.port, "e@example.com", "Password changed", "No links here.")
    with pytest.raises(LookupError):
        link_in(sink.mailbox.wait_for("e@example.com", "Password changed"), "/account/")


def test_verification_link_is_the_link_of_the_verification_mail(sink: SmtpSink) -> None:
    send(
        sink.port,
        "f@example.com",
        "Verify your email",
        "Go to http://localhost:1/account/verify-email/?token=abc.",
    )
    assert (
        verification_link(sink.mailbox, "f@example.com")
        == "http://localhost:1/account/verify-email/?token=abc"
    )


def test_token_in_reads_the_links_token_and_masks_it() -> None:
    token = token_in("http://localhost:1/account/reset-password/?token=abc.def&x=1")
    assert token == "abc.def"
    assert repr(token) == "'***'"


def test_token_in_refuses_a_link_without_a_token() -> None:
    with pytest.raises(LookupError, match="/account/verify-email/ carries no token"):
        token_in("http://localhost:1/account/verify-email/?next=/")


def test_sink_gives_test_accounts_addresses_at_example_com(sink: SmtpSink) -> None:
    assert sink.mailbox.address_for("t0a1b2c") == "t0a1b2c@example.com"
