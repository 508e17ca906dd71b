"""Recovery codes: generation, burning, login with a code, reuse and regeneration (ASVS 2.5)."""

import re
from functools import partial

import pytest

from harness.accounts import TestAccount
from harness.client import RECOVERY_CODE_FORM, IndexClient, at_once
from harness.mail import Mailbox

pytestmark = [pytest.mark.protocol, pytest.mark.needs("recovery_codes")]
# Each round of the concurrent-use race costs its account one failed second factor (the
# loser's), and Warehouse's limit is 5 per user in 5 minutes: four rounds an account.
RACE_ROUNDS_PER_ACCOUNT = 4


@pytest.fixture
def account(make_account) -> TestAccount:
    return make_account(totp=True, recovery_codes=True)


def recovery_login(client: IndexClient, account: TestAccount, code: str):
    return client.recovery_code_login(
        client.password_step(account.username, account.password), code
    )


def race_one_code(account: TestAccount, make_client) -> None:
    """Two clients send one fresh code of ``account`` at once: exactly one is let in."""
    clients = [make_client(), make_client()]
    # Each client opens its recovery-code page first, so that only the two posts race: a page
    # opened after the other client's login would already be void.
    forms = [
        c.recovery_code_page(c.password_step(account.username, account.password)) for c in clients
    ]
    code = account.unused_recovery_code()
    pages = at_once(
        *(
            partial(c.submit_page, form, RECOVERY_CODE_FORM, recovery_code_value=code)
            for c, form in zip(clients, forms, strict=True)
        )
    )
    answers = [(page.status, page.location) for page in pages]
    # The loser is refused as a used code (200 with an error) or, when the winner's login came
    # first, because its pending login was voided by that login (303 to the login page).
    assert answers.count((303, "/manage/account/")) == 1, answers
    assert sum(c.get("/manage/account/").status == 200 for c in clients) == 1


class TestGenerate:
    @pytest.mark.requirement("RECOVERY-FORMAT-01")
    def test_eight_codes_of_sixteen_hex_characters_are_shown(self, make_account) -> None:
        account = make_account(recovery_codes=True)
        assert len(account.recovery_codes) == 8
        assert len(set(account.recovery_codes)) == 8
        assert all(re.fullmatch(r"[0-9a-f]{16}", code) for code in account.recovery_codes)

    @pytest.mark.requirement("RECOVERY-SHOWN-ONCE-01")
    def test_codes_are_not_shown_again(self, make_account, client: IndexClient) -> None:
        account = make_account(recovery_codes=True)
        client.login(account.username, account.password)
        page = client.open_sensitive("/manage/account/recovery-codes/generate", account.password)
        assert page.status == 200
        assert page.texts(".recovery-codes ul li code") == []
        assert not any(code in page.response.text for code in account.recovery_codes)

    @pytest.mark.requirement("RECOVERY-NOTIFY-01")
    def test_generating_codes_is_mailed_to_the_user(self, make_account, mailbox: Mailbox) -> None:
        account = make_account(recovery_codes=True)
        mail = mailbox.wait_for(account.email, "Recovery codes generated")
        assert not any(code in mail.text for code in account.recovery_codes)


class TestBurn:
    @pytest.mark.requirement("RECOVERY-BURN-01")
    def test_burning_one_of_the_codes_is_accepted(self, make_account, client: IndexClient) -> None:
        account = make_account(recovery_codes=True)
        client.login(account.username, account.password)
        page = client.burn_recovery_code(account.unused_recovery_code())
        assert (page.status, page.location) == (303, "/manage/account/two-factor/")

    @pytest.mark.requirement("RECOVERY-BURN-02")
    def test_burning_a_code_that_is_not_one_of_them_is_refused(
        self, make_account, client: IndexClient
    ) -> None:
        account = make_account(recovery_codes=True)
        client.login(account.username, account.password)
        page = client.burn_recovery_code("0123456789abcdef")
        assert page.status == 200
        assert page.errors("recovery_code_value")


class TestRecoveryLogin:
    @pytest.mark.requirement("RECOVERY-LOGIN-01")
    def test_recovery_code_completes_the_login(self, account, client: IndexClient) -> None:
        page = recovery_login(client, account, account.unused_recovery_code())
        assert (page.status, page.location) == (303, "/manage/account/")
        assert client.get("/manage/account/").status == 200

    @pytest.mark.requirement("RECOVERY-SINGLE-USE-01")
    def test_used_recovery_code_is_refused(self, account, make_client) -> None:
        code = account.unused_recovery_code()
        assert recovery_login(make_client(), account, code).status == 303
        again = make_client()
        page = recovery_login(again, account, code)
        assert page.status == 200
        assert page.errors("recovery_code_value")
        assert again.get("/manage/account/").status == 303

    @pytest.mark.requirement("RECOVERY-CONCURRENT-01")
    def test_one_code_sent_twice_at_once_logs_in_only_once(
        self, account, make_account, make_client
    ) -> None:
        # A server that checks a code and then burns it is caught only when the two posts meet
        # inside that window: 10 single rounds in 12 on one bundled server here. So: several
        # rounds, each with a fresh code, every one of which must let exactly one client in.
        for racer in (account, make_account(totp=True, recovery_codes=True)):
            for _ in range(RACE_ROUNDS_PER_ACCOUNT):
                race_one_code(racer, make_client)

    @pytest.mark.requirement("RECOVERY-NOTIFY-02")
    def test_using_a_code_is_mailed_to_the_user(
        self, account, client: IndexClient, mailbox: Mailbox
    ) -> None:
        before = mailbox.count(account.email, "Recovery code used")
        recovery_login(client, account, account.unused_recovery_code())
        mailbox.wait_for(account.email, "Recovery code used", after=before)

    @pytest.mark.requirement("RECOVERY-FORMAT-02")
    @pytest.mark.parametrize(
        "code",
        ["", "0123456789abcde", "0123456789abcdef0", "0123456789abcdeg", "x" * 10_000],
        ids=["empty", "15-chars", "17-chars", "not-hex", "huge"],
    )
    def test_malformed_recovery_code_is_refused_with_a_form_error(
        self, account, client, code
    ) -> None:
        page = recovery_login(client, account, code)
        assert page.status == 200
        assert page.errors("recovery_code_value")
        assert client.get("/manage/account/").status == 303

    @pytest.mark.requirement("RECOVERY-LOGIN-02")
    def test_another_users_code_is_refused(self, account, make_account, client) -> None:
        other = make_account(totp=True, recovery_codes=True)
        page = recovery_login(client, account, other.unused_recovery_code())
        assert page.status == 200
        assert client.get("/manage/account/").status == 303


class TestRegenerate:
    @pytest.mark.requirement("RECOVERY-NOTIFY-03")
    def test_regenerating_codes_is_mailed_without_them(
        self, make_account, client: IndexClient, mailbox: Mailbox
    ) -> None:
        account = make_account(recovery_codes=True)
        client.login(account.username, account.password)
        before = mailbox.count(account.email, "Recovery codes generated")
        new_codes = client.generate_recovery_codes(account.password, regenerate=True)
        mail = mailbox.wait_for(account.email, "Recovery codes generated", after=before)
        assert len(new_codes) == 8
        assert not any(code in mail.text for code in [*new_codes, *account.recovery_codes])

    @pytest.mark.requirement("RECOVERY-REGENERATE-01")
    def test_regenerating_voids_every_old_code(self, account, make_client) -> None:
        old_code = account.unused_recovery_code()
        manager = make_client()
        manager.recovery_code_login(
            manager.password_step(account.username, account.password),
            account.unused_recovery_code(),
        )
        new_codes = manager.generate_recovery_codes(account.password, regenerate=True)
        assert len(new_codes) == 8 and not set(new_codes) & set(account.recovery_codes)
        refused = make_client()
        assert recovery_login(refused, account, old_code).status == 200
        accepted = make_client()
        assert recovery_login(accepted, account, new_codes[0]).status == 303
