"""Mail over real SMTP, and what happens without it or when it fails."""

from __future__ import annotations

import email
import logging
import socket

import pytest
from aiosmtpd.controller import Controller

from reference_server import create_app
from reference_server.mail import SmtpMailSender


class Sink:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_sink():
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield sink, controller.port
    controller.stop()


def test_the_verification_mail_goes_out_over_smtp(config_for, clock, smtp_sink, password):
    sink, port = smtp_sink
    app = create_app(config_for(smtp=("127.0.0.1", port)), clock=clock)
    client = app.test_client()
    client.get("/account/register/")
    with client.session_transaction() as session:
        token = session["csrf_token"]
    client.post(
        "/account/register/",
        data={
            "csrf_token": token,
            "full_name": "",
            "email": "carol@example.com",
            "username": "carol",
            "new_password": password,
            "password_confirm": password,
        },
    )
    assert len(sink.messages) == 1
    message = sink.messages[0]
    assert message["Subject"] == "Verify your email"
    assert message["To"] == "carol@example.com"
    assert "http://localhost/account/verify-email/?token=" in message.get_payload()


def test_a_mail_failure_does_not_fail_the_request(config_for, clock, password, caplog):
    app = create_app(
        config_for(), clock=clock, mail_sender=SmtpMailSender("127.0.0.1", free_port())
    )
    client = app.test_client()
    client.get("/account/register/")
    with client.session_transaction() as session:
        token = session["csrf_token"]
    with caplog.at_level(logging.WARNING, logger="reference_server.mail"):
        response = client.post(
            "/account/register/",
            data={
                "csrf_token": token,
                "full_name": "",
                "email": "dan@example.com",
                "username": "dan",
                "new_password": password,
                "password_confirm": password,
            },
        )
    assert response.status_code == 303
    assert len(caplog.records) == 1
    assert "Verify your email" in caplog.records[0].getMessage()


def test_without_smtp_one_line_is_logged_without_the_link(config_for, clock, password, caplog):
    app = create_app(config_for(), clock=clock)
    client = app.test_client()
    client.get("/account/register/")
    with client.session_transaction() as session:
        token = session["csrf_token"]
    with caplog.at_level(logging.INFO, logger="reference_server.mail"):
        client.post(
            "/account/register/",
            data={
                "csrf_token": token,
                "full_name": "",
                "email": "erin@example.com",
                "username": "erin",
                "new_password": password,
                "password_confirm": password,
            },
        )
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1
    assert "erin@example.com" in lines[0]
    assert "token" not in lines[0]
    assert "http" not in lines[0]
