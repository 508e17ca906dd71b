"""The login's TOTP step (RFC 6238 §5.2, OWASP ASVS 2.8), at protocol level."""

from collections.abc import Callable, Iterator
from functools import partial

import pytest

from harness.accounts import TestAccount
from harness.client import TOTP_FORM, IndexClient, at_once
from harness.targets import Profile, Target
from virtual_authenticators.kinds import software_key

pytestmark = [pytest.mark.protocol, pytest.mark.needs("totp")]

PROTECTED = [
    "/manage/projects/",
    "/manage/account/",
    "/manage/account/two-factor/",
    "/manage/account/totp-provision",
    pytest.param(
        "/manage/account/recovery-codes/generate",
        marks=pytest.mark.needs("recovery_codes"),
        id="/manage/account/recovery-codes/generate",
    ),
]


@pytest.fixture
def account(make_account) -> TestAccount:
    account = make_account(totp=True)
    account.totp.wait_for_fresh_step()
    return account


@pytest.fixture
def two_factor_url(account: TestAccount, client: IndexClient) -> str:
    return client.password_step(account.username, account.password)


def is_logged_in(client: IndexClient) -> bool:
    return client.get("/manage/account/").status == 200


def refused_with_an_error(client: IndexClient, account: TestAccount, code: str) -> bool:
    """Both login steps with ``code`` leave ``client`` on the two-factor page with an error."""
    page = client.log_in_with_totp(account.username, account.password, code)
    return page.status == 200 and bool(page.errors("totp")) and not is_logged_in(client)


def logged_in_as(client: IndexClient) -> str | None:
    """The username the index shows as logged in on ``client``, or None."""
    indicator = client.get("/").select("#user-indicator")
    return indicator[0].get_text(strip=True) if indicator else None


@pytest.fixture
def next_step(target: Target) -> Iterator[Callable[[TestAccount, int], None]]:
    """Brings ``account``'s TOTP time into the step after ``step``: ``next_step(account, step)``.

    On the bundled server the account's own TOTP clock and its app's jump to the start of that
    step (real time again after the test); elsewhere the scenario waits for it.
    """
    moved: list[str] = []

    def move(account: TestAccount, step: int) -> None:
        app = account.totp
        if target.test_hooks is None:
            while app.step() <= step:
                app.wait_for_fresh_step(at_least=app.interval)
            return
        start = (step + 1) * app.interval + 1
        target.test_hooks.set_totp_clock(account.username, start)
        app.clock = lambda: start
        moved.append(account.username)

    yield move
    for username in moved:
        assert target.test_hooks is not None
        target.test_hooks.set_totp_clock(username, None)


SECOND_FACTORS = ["totp", "recovery-code", "security-key"]


@pytest.fixture
def make_account_with_every_factor(make_account) -> Callable[[], TestAccount]:
    return lambda: make_account(totp=True, recovery_codes=True, security_key=software_key("soft"))


def send_second_factor(
    client: IndexClient, two_factor_url: str, holder: TestAccount, factor: str
) -> None:
    """Answer the pending login at ``two_factor_url`` with ``holder``'s valid ``factor``."""
    if factor == "totp":
        client.two_factor_totp(two_factor_url, holder.totp.current())
    elif factor == "recovery-code":
        client.recovery_code_login(two_factor_url, holder.unused_recovery_code())
    else:
        options = client.webauthn_authenticate_options(two_factor_url).body
        # The key signs this login's challenge with its own credential, whichever are allowed.
        assertion = holder.security_key.get({**options, "allowCredentials": []}, client.origin)
        client.webauthn_authenticate_validate(two_factor_url, assertion)


class TestTotpCodes:
    @pytest.mark.requirement("TOTP-VERIFY-01", "TOTP-STEP-01")
    def test_current_code_completes_the_login(self, account, client, two_factor_url) -> None:
        page = client.two_factor_totp(two_factor_url, account.totp.current())
        assert page.status == 303
        assert is_logged_in(client)

    @pytest.mark.requirement("TOTP-DRIFT-01", "TOTP-STEP-01")
    def test_previous_step_code_is_accepted(self, account, client, two_factor_url) -> None:
        assert client.two_factor_totp(two_factor_url, account.totp.previous()).status == 303
        assert is_logged_in(client)

    @pytest.mark.requirement("TOTP-DRIFT-01")
    def test_next_step_code_is_accepted(self, account, client, two_factor_url) -> None:
        assert client.two_factor_totp(two_factor_url, account.totp.next()).status == 303

    @pytest.mark.requirement("TOTP-DRIFT-02", "TOTP-STEP-01")
    def test_code_two_steps_old_is_refused(self, account, client, two_factor_url) -> None:
        page = client.two_factor_totp(two_factor_url, account.totp.previous(2))
        assert page.status == 200
        assert page.errors("totp")
        assert not is_logged_in(client)

    @pytest.mark.requirement("TOTP-VERIFY-02")
    def test_wrong_code_is_refused(self, account, client, two_factor_url) -> None:
        page = client.two_factor_totp(two_factor_url, account.totp.wrong_code())
        assert page.status == 200
        assert page.errors("totp")
        assert not is_logged_in(client)

    @pytest.mark.requirement("TOTP-FORMAT-01")
    @pytest.mark.parametrize(
        "mangle",
        [
            pytest.param(lambda code: code[:5], id="5-digits"),
            pytest.param(lambda code: code + "1", id="7-digits"),
            pytest.param(lambda code: code[:3] + "a" + code[4:], id="non-numeric"),
            pytest.param(lambda code: "", id="empty"),
            pytest.param(lambda code: code * 5000, id="huge"),
            pytest.param(
                lambda code: "".join(chr(0xFF10 + int(digit)) for digit in code),
                id="full-width-digits",
            ),
        ],
    )
    def test_malformed_code_is_refused_with_a_form_error(
        self, account, client, two_factor_url, mangle
    ) -> None:
        page = client.two_factor_totp(two_factor_url, mangle(account.totp.current()))
        assert page.status == 200
        assert page.errors("totp")
        assert not is_logged_in(client)

    @pytest.mark.requirement("TOTP-FORMAT-02")
    @pytest.mark.parametrize(
        "spacing", ["{0} {1}", " {0}{1} ", "{0}  {1}"], ids=["middle", "around", "double"]
    )
    def test_spaced_code_is_accepted(self, account, client, two_factor_url, spacing) -> None:
        code = account.totp.current()
        page = client.two_factor_totp(two_factor_url, spacing.format(code[:3], code[3:]))
        assert page.status == 303
        assert is_logged_in(client)


class TestTotpReplay:
    @pytest.mark.requirement("TOTP-REPLAY-01")
    def test_accepted_code_is_refused_at_the_next_login(self, account, make_client) -> None:
        first, second = make_client(), make_client()
        code = account.totp.current()
        assert first.log_in_with_totp(account.username, account.password, code).status == 303
        page = second.log_in_with_totp(account.username, account.password, code)
        assert page.status == 200
        assert page.errors("totp")
        assert not is_logged_in(second)

    @pytest.mark.requirement("TOTP-REPLAY-02")
    def test_older_step_is_refused_once_a_newer_one_was_accepted(
        self, account, make_client
    ) -> None:
        first, second = make_client(), make_client()
        assert (
            first.log_in_with_totp(
                account.username, account.password, account.totp.current()
            ).status
            == 303
        )
        page = second.log_in_with_totp(account.username, account.password, account.totp.previous())
        assert page.status == 200
        assert not is_logged_in(second)

    @pytest.mark.requirement("TOTP-REPLAY-03")
    def test_spaced_variant_of_an_accepted_code_is_refused(self, account, make_client) -> None:
        first, second = make_client(), make_client()
        code = account.totp.current()
        assert first.log_in_with_totp(account.username, account.password, code).status == 303
        page = second.log_in_with_totp(
            account.username, account.password, f" {code[:3]} {code[3:]} "
        )
        assert page.status == 200
        assert not is_logged_in(second)

    @pytest.mark.requirement("TOTP-REPLAY-05")
    def test_accepted_code_is_refused_again_in_the_next_step(
        self, account, make_client, next_step
    ) -> None:
        first, second = make_client(), make_client()
        step = account.totp.step()
        code = account.totp.code_at_step(step)
        assert first.log_in_with_totp(account.username, account.password, code).status == 303
        next_step(account, step)
        assert refused_with_an_error(second, account, code)

    @pytest.mark.requirement("TOTP-REPLAY-05")
    def test_unused_code_of_a_step_is_accepted_in_the_next_step(
        self, account, client, next_step
    ) -> None:
        step = account.totp.step()
        code = account.totp.code_at_step(step)
        next_step(account, step)
        assert client.log_in_with_totp(account.username, account.password, code).status == 303
        assert is_logged_in(client)

    @pytest.mark.requirement("TOTP-REPLAY-04")
    def test_one_code_sent_twice_at_once_logs_in_only_once(self, account, make_client) -> None:
        clients = [make_client(), make_client()]
        # Each client opens its two-factor page first, so that only the two posts race: a page
        # opened after the other client's login would already be void.
        forms = [c.get(c.password_step(account.username, account.password)) for c in clients]
        code = account.totp.current()
        pages = at_once(
            *(
                partial(c.submit_page, form, TOTP_FORM, totp_value=code)
                for c, form in zip(clients, forms, strict=True)
            )
        )
        answers = [(page.status, page.location) for page in pages]
        # The loser is refused either as a replay (200 with an error) or, when the winner's login
        # came first, because its pending login was voided by that login (303 to the login page).
        assert answers.count((303, "/")) == 1, answers
        assert sum(is_logged_in(c) for c in clients) == 1


class TestPendingLogin:
    @pytest.mark.requirement("TWOFA-TOKEN-04")
    @pytest.mark.parametrize("factor", SECOND_FACTORS)
    def test_another_users_second_factor_completes_no_pending_login(
        self, make_account_with_every_factor, client, factor: str
    ) -> None:
        owner, intruder = make_account_with_every_factor(), make_account_with_every_factor()
        two_factor_url = client.password_step(owner.username, owner.password)
        send_second_factor(client, two_factor_url, intruder, factor)
        assert logged_in_as(client) is None

    @pytest.mark.requirement("TWOFA-TOKEN-04")
    @pytest.mark.parametrize("factor", SECOND_FACTORS)
    def test_own_second_factor_logs_in_the_user_of_the_pending_login(
        self, make_account_with_every_factor, client, factor: str
    ) -> None:
        owner = make_account_with_every_factor()
        two_factor_url = client.password_step(owner.username, owner.password)
        send_second_factor(client, two_factor_url, owner, factor)
        assert logged_in_as(client) == owner.username

    @pytest.mark.requirement("TWOFA-TOKEN-03")
    def test_two_factor_link_dies_at_the_profiles_age(
        self, account, client, two_factor_url, server_clock, target_profile: Profile
    ) -> None:
        form = client.get(two_factor_url)
        interval = account.totp.interval
        steps = -(-(target_profile.ages.two_factor_login + 1) // interval)  # rounded up
        server_clock(steps * interval)
        page = client.submit_page(form, TOTP_FORM, totp_value=account.totp.next(steps))
        assert page.status == 303
        assert page.location.startswith("/account/login/")
        assert not is_logged_in(client)

    @pytest.mark.requirement("TWOFA-TOKEN-03")
    def test_two_factor_link_works_until_the_profiles_age(
        self, account, client, two_factor_url, server_clock, target_profile: Profile
    ) -> None:
        form = client.get(two_factor_url)
        interval = account.totp.interval
        steps = (target_profile.ages.two_factor_login - interval) // interval
        server_clock(steps * interval)
        page = client.submit_page(form, TOTP_FORM, totp_value=account.totp.next(steps))
        assert (page.status, page.location) == (303, "/")

    @pytest.mark.requirement("TWOFA-PARTIAL-01")
    @pytest.mark.parametrize("path", PROTECTED)
    def test_password_step_alone_grants_no_protected_page(
        self, client, two_factor_url, path
    ) -> None:
        page = client.get(path)
        assert page.status == 303
        assert page.location.startswith("/account/login/")

    @pytest.mark.requirement("TWOFA-TOKEN-01")
    def test_two_factor_link_is_void_after_use(
        self, account, client, make_client, two_factor_url
    ) -> None:
        assert client.two_factor_totp(two_factor_url, account.totp.current()).status == 303
        replay = make_client()
        page = replay.get(two_factor_url)
        assert page.status == 303
        assert page.location.startswith("/account/login/")

    @pytest.mark.requirement("TWOFA-TOKEN-02")
    def test_tampered_two_factor_link_is_refused(self, client, two_factor_url) -> None:
        page = client.get(two_factor_url[:-4] + "AAAA")
        assert page.status == 303
        assert page.location.startswith("/account/login/")

    @pytest.mark.requirement("TWOFA-TOKEN-01")
    def test_two_factor_link_of_an_earlier_login_is_void(self, account, make_client) -> None:
        old, new = make_client(), make_client()
        old_url = old.password_step(account.username, account.password)
        new_url = new.password_step(account.username, account.password)
        assert new.two_factor_totp(new_url, account.totp.current()).status == 303
        assert old.get(old_url).status == 303
