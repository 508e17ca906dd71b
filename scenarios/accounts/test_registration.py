"""Registration and email verification, at protocol level."""

import secrets

import pytest

from harness.client import IndexClient
from harness.mail import Mailbox, verification_link

pytestmark = [pytest.mark.protocol, pytest.mark.needs("registration")]


def fresh_name() -> str:
    return "r" + secrets.token_hex(6)


class TestRegister:
    @pytest.mark.requirement("ACCOUNT-REGISTER-01")
    def test_new_account_is_logged_in_and_sent_home(self, client: IndexClient) -> None:
        name = fresh_name()
        page = client.register(name, f"{name}@example.com", secrets.token_urlsafe(16))
        assert (page.status, page.location) == (303, "/")
        assert client.get("/").one("#user-indicator").get_text(strip=True) == name

    @pytest.mark.requirement("ACCOUNT-REGISTER-02")
    def test_filled_honeypot_is_refused(self, client: IndexClient) -> None:
        name = fresh_name()
        page = client.register(
            name, f"{name}@example.com", "correct horse battery", confirm_form="I am a bot"
        )
        assert page.status != 303
        assert not client.get("/").has("#user-indicator")

    @pytest.mark.requirement("ACCOUNT-REGISTER-03")
    @pytest.mark.parametrize("password", ["short1", "password", "aaaaaaaaaaaa"])
    def test_weak_password_is_refused(self, client: IndexClient, password: str) -> None:
        name = fresh_name()
        page = client.register(name, f"{name}@example.com", password)
        assert page.status == 200
        assert page.errors("new_password")

    @pytest.mark.requirement("ACCOUNT-REGISTER-04")
    def test_mismatched_confirmation_is_refused(self, client: IndexClient) -> None:
        name = fresh_name()
        page = client.register(
            name,
            f"{name}@example.com",
            secrets.token_urlsafe(16),
            password_confirm=secrets.token_urlsafe(16),
        )
        assert page.status == 200
        assert page.errors("password_confirm")

    @pytest.mark.requirement("ACCOUNT-REGISTER-05")
    def test_taken_username_is_refused(self, make_account, make_client) -> None:
        taken = make_account(verified=False)
        page = make_client().register(
            taken.username, f"{fresh_name()}@example.com", secrets.token_urlsafe(16)
        )
        assert page.status == 200
        assert page.errors("username")

    @pytest.mark.requirement("ACCOUNT-REGISTER-06")
    def test_taken_email_is_refused(self, make_account, make_client) -> None:
        taken = make_account(verified=False)
        page = make_client().register(fresh_name(), taken.email, secrets.token_urlsafe(16))
        assert page.status == 200
        assert page.errors("email")


class TestVerifyEmail:
    @pytest.mark.requirement("ACCOUNT-VERIFY-01")
    def test_emailed_link_marks_the_address_verified(
        self, client: IndexClient, mailbox: Mailbox
    ) -> None:
        name = fresh_name()
        address = f"{name}@example.com"
        client.register(name, address, secrets.token_urlsafe(16))
        row = f'#account-emails tr[data-email="{address}"] .email-status'
        assert client.get("/manage/account/").one(row).get_text(strip=True) == "Unverified"
        link = verification_link(mailbox, address)
        page = client.get(link)
        assert (page.status, page.location) == (303, "/manage/account/")
        assert client.get("/manage/account/").one(row).get_text(strip=True) == "Verified"

    @pytest.mark.requirement("ACCOUNT-VERIFY-02")
    def test_tampered_link_verifies_nothing(self, client: IndexClient, mailbox: Mailbox) -> None:
        name = fresh_name()
        address = f"{name}@example.com"
        client.register(name, address, secrets.token_urlsafe(16))
        link = verification_link(mailbox, address)
        client.get(link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB"))
        row = f'#account-emails tr[data-email="{address}"] .email-status'
        assert client.get("/manage/account/").one(row).get_text(strip=True) == "Unverified"

    @pytest.mark.requirement("ACCOUNT-VERIFY-03")
    def test_link_does_not_log_anyone_in(self, make_client, mailbox: Mailbox) -> None:
        owner, stranger = make_client(), make_client()
        name = fresh_name()
        address = f"{name}@example.com"
        owner.register(name, address, secrets.token_urlsafe(16))
        link = verification_link(mailbox, address)
        page = stranger.get(link)
        assert page.status == 303
        assert not stranger.get("/").has("#user-indicator")
        assert stranger.get("/manage/account/").status == 303

    @pytest.mark.requirement("ACCOUNT-VERIFY-04")
    def test_link_opened_by_another_account_verifies_nothing(
        self, make_client, make_account, mailbox: Mailbox
    ) -> None:
        owner, other = make_client(), make_client()
        name = fresh_name()
        address = f"{name}@example.com"
        owner.register(name, address, secrets.token_urlsafe(16))
        link = verification_link(mailbox, address)
        stranger = make_account(verified=False)
        other.login(stranger.username, stranger.password)
        other.get(link)
        row = f'#account-emails tr[data-email="{address}"] .email-status'
        assert owner.get("/manage/account/").one(row).get_text(strip=True) == "Unverified"
