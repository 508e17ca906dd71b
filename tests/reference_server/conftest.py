"""Fixtures for the reference server's unit tests: a fresh SQLite file per test, a controlled
clock, an in-memory mail sender, and a ``Flow`` that walks the pages like a browser."""

from __future__ import annotations

import re
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from reference_server import ServerConfig, create_app

PASSWORD = "correct horse battery staple 42"
START = 1_700_000_010.0  # 10 s into a TOTP step


class Clock:
    """A clock the tests move by hand."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class MemoryMailSender:
    """Keeps every message instead of sending it."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        self.messages.append(message)

    def subjects(self) -> list[str]:
        return [m["Subject"] for m in self.messages]

    def last(self, subject: str) -> EmailMessage:
        return [m for m in self.messages if m["Subject"] == subject][-1]

    def link(self, subject: str) -> str:
        body = self.last(subject).get_content()
        match = re.search(r"https?://\S+", body)
        assert match, body
        return match.group(0)


def fast_config(tmp_path: Path, **overrides: object) -> ServerConfig:
    """A config for tests: its own database file, cheap argon2, a fixed key."""
    settings: dict = {
        "database_url": f"sqlite:///{tmp_path / 'server.sqlite3'}",
        "secret_key": "a fixed secret key for the tests",
        "argon2_time_cost": 1,
        "argon2_memory_cost": 8,
        "argon2_parallelism": 1,
    }
    settings.update(overrides)
    return ServerConfig(**settings)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def mail() -> MemoryMailSender:
    return MemoryMailSender()


@pytest.fixture
def make_app(tmp_path: Path, clock: Clock, mail: MemoryMailSender) -> Callable[..., Flask]:
    """Build an app with config overrides (same database, clock and mail for each call)."""

    def build(**overrides: object) -> Flask:
        app = create_app(fast_config(tmp_path, **overrides), mail_sender=mail, clock=clock)
        app.testing = True
        return app

    return build


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


def csrf_of(client: FlaskClient) -> str:
    """The CSRF token of the client's session, creating the session if needed."""
    client.get("/account/request-password-reset/")
    with client.session_transaction() as session:
        token = session.get("csrf_token")
        if not token:
            token = session["csrf_token"] = "token-made-by-the-test"
    return token


class Flow:
    """A user's walk through the server, one helper per step."""

    def __init__(self, app: Flask, clock: Clock, mail: MemoryMailSender) -> None:
        self.app = app
        self.clock = clock
        self.mail = mail
        self.client = app.test_client()
        self.username = "alice"
        self.email = "alice@example.com"
        self.totp: pyotp.TOTP | None = None
        self.codes: list[str] = []

    def new_client(self) -> FlaskClient:
        """Another browser: its own cookies."""
        self.client = self.app.test_client()
        return self.client

    def csrf(self) -> str:
        return csrf_of(self.client)

    def post(self, path: str, data: dict | None = None, **kwargs: object) -> TestResponse:
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf())
        return self.client.post(path, data=data, **kwargs)

    def register(self, password: str = PASSWORD) -> TestResponse:
        return self.post(
            "/account/register/",
            {
                "full_name": "Alice Example",
                "email": self.email,
                "username": self.username,
                "new_password": password,
                "password_confirm": password,
            },
        )

    def verify_email(self) -> TestResponse:
        return self.client.get(self.mail.link("Verify your email"))

    def logout(self) -> TestResponse:
        return self.post("/account/logout/")

    def login(self, password: str = PASSWORD, **extra: str) -> TestResponse:
        return self.post(
            "/account/login/", {"username": self.username, "password": password, **extra}
        )

    def generate_codes(self) -> list[str]:
        page = self.client.get("/manage/account/recovery-codes/generate")
        self.codes = re.findall(r"<code>([0-9a-f]{16})</code>", page.get_data(as_text=True))
        return self.codes

    def burn(self, code: str) -> TestResponse:
        return self.post(
            "/manage/account/recovery-codes/burn",
            {"method": "recovery-code", "recovery_code_value": code},
        )

    def provision_totp(self) -> TestResponse:
        page = self.client.get("/manage/account/totp-provision").get_data(as_text=True)
        secret = re.search(r'class="totp-form__manual-code">[^<]*<code>([A-Z2-7]{32})</code>', page)
        assert secret, page
        self.totp = pyotp.TOTP(secret.group(1))
        return self.post(
            "/manage/account/totp-provision", {"totp_value": self.totp.at(self.clock.now)}
        )

    def code(self, offset_steps: int = 0) -> str:
        assert self.totp is not None
        return self.totp.at(self.clock.now + 30 * offset_steps)

    def two_factor_url(self, response: TestResponse) -> str:
        assert response.status_code == 303, response.get_data(as_text=True)
        location = response.headers["Location"]
        assert location.startswith("/account/two-factor/?"), location
        return location

    def submit_totp(self, url: str, value: str, **extra: str) -> TestResponse:
        return self.post(url, {"method": "totp", "totp_value": value, **extra})

    def full_setup(self) -> None:
        """Register, verify, generate and burn codes, enable TOTP, log out."""
        assert self.register().status_code == 303
        assert self.verify_email().status_code == 303
        assert len(self.generate_codes()) == 8
        assert self.burn(self.codes[0]).status_code == 303
        response = self.provision_totp()
        assert response.status_code == 303, response.get_data(as_text=True)
        self.clock.advance(30)  # the provisioning code's step is used up
        self.logout()

    def login_with_totp(self) -> TestResponse:
        url = self.two_factor_url(self.login())
        return self.submit_totp(url, self.code())


@pytest.fixture
def flow(app: Flask, clock: Clock, mail: MemoryMailSender) -> Flow:
    return Flow(app, clock, mail)


@pytest.fixture
def ready(flow: Flow) -> Flow:
    """A user with verified email, recovery codes (one burned) and TOTP, logged out."""
    flow.full_setup()
    return flow


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def config_for(tmp_path: Path) -> Callable[..., ServerConfig]:
    return lambda **overrides: fast_config(tmp_path, **overrides)


@pytest.fixture
def make_flow(
    make_app: Callable[..., Flask], clock: Clock, mail: MemoryMailSender
) -> Callable[..., Flow]:
    """A Flow on an app with config overrides."""
    return lambda **overrides: Flow(make_app(**overrides), clock, mail)
