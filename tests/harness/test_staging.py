"""The tester's credentials, and reading and restoring an account, against a real bundled
reference server (no mocks)."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import pytest

from harness import staging
from harness.accounts import AccountFactory, TestAccount
from harness.client import IndexClient
from harness.errors import ContractMismatch, HarnessError
from harness.redaction import Secret
from harness.staging import AccountGuard, AccountState, read_account_state, restore_account
from harness.targets import BundledServer, Target
from harness.uploads import build_wheel, twine_upload
from virtual_authenticators.kinds import software_key

PASSWORD = "pa$$word ${HOME} with 'quotes'"
SEED = base64.b32encode(b"a tester's 20 bytes!").decode("ascii")
FRESH = AccountState(
    totp=True,
    security_keys=frozenset(),
    api_tokens=frozenset(),
    projects=frozenset(),
    recovery_codes=True,
)


def credentials(tmp_path: Path, **environ: str) -> staging.TesterCredentials | None:
    """Read ``environ`` with ``tmp_path/repo`` as the repository."""
    # Through the module: pytest would collect names starting "test" imported here.
    return staging.credentials_from_environment(environ, repository_root=tmp_path / "repo")


def refusal(tmp_path: Path, **environ: str) -> str:
    """The one-line message ``environ`` is refused with; it never holds a secret."""
    with pytest.raises(HarnessError) as refused:
        credentials(tmp_path, **environ)
    message = str(refused.value)
    assert "\n" not in message
    assert PASSWORD not in message
    assert SEED not in message
    return message


def env_file(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tester.env"
    path.write_text(text, encoding="utf-8")
    return path


class TestCredentials:
    def test_credentials_come_from_the_environment(self, tmp_path: Path) -> None:
        found = credentials(
            tmp_path, HARNESS_USERNAME="tester", HARNESS_PASSWORD=PASSWORD, HARNESS_TOTP_SECRET=SEED
        )
        assert found == staging.TesterCredentials("tester", Secret(PASSWORD), Secret(SEED))

    def test_no_credentials_at_all_gives_none(self, tmp_path: Path) -> None:
        assert credentials(tmp_path, HARNESS_USERNAME="", PATH="/usr/bin") is None

    def test_an_env_file_outside_the_repository_gives_them_literally(self, tmp_path: Path) -> None:
        path = env_file(
            tmp_path / "outside",
            f'HARNESS_USERNAME=tester\nHARNESS_PASSWORD="{PASSWORD}"\nHARNESS_TOTP_SECRET={SEED}\n',
        )
        found = credentials(tmp_path, HARNESS_ENV_FILE=str(path))
        assert found == staging.TesterCredentials("tester", Secret(PASSWORD), Secret(SEED))

    def test_the_environment_wins_over_the_env_file(self, tmp_path: Path) -> None:
        path = env_file(tmp_path / "outside", "HARNESS_USERNAME=from-file\nHARNESS_PASSWORD=x\n")
        found = credentials(tmp_path, HARNESS_ENV_FILE=str(path), HARNESS_PASSWORD=PASSWORD)
        assert found == staging.TesterCredentials("from-file", Secret(PASSWORD))

    def test_an_env_file_inside_the_repository_is_refused(self, tmp_path: Path) -> None:
        path = env_file(tmp_path / "repo" / "config", f"HARNESS_PASSWORD={PASSWORD}\n")
        assert "inside the repository" in refusal(tmp_path, HARNESS_ENV_FILE=str(path))

    def test_a_link_outside_to_an_env_file_inside_the_repository_is_refused(
        self, tmp_path: Path
    ) -> None:
        inside = env_file(tmp_path / "repo", f"HARNESS_PASSWORD={PASSWORD}\n")
        link = tmp_path / "outside.env"
        link.symlink_to(inside)
        assert "inside the repository" in refusal(tmp_path, HARNESS_ENV_FILE=str(link))

    def test_a_missing_env_file_is_refused(self, tmp_path: Path) -> None:
        missing = tmp_path / "nowhere" / "tester.env"
        assert "cannot be read" in refusal(tmp_path, HARNESS_ENV_FILE=str(missing))

    def test_an_env_file_that_is_not_text_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "binary.env"
        path.write_bytes(b"HARNESS_PASSWORD=\xff\xfe\n")
        assert "cannot be read" in refusal(tmp_path, HARNESS_ENV_FILE=str(path))

    @pytest.mark.parametrize(
        "given",
        [
            {"HARNESS_USERNAME": "tester"},
            {"HARNESS_PASSWORD": PASSWORD},
            {"HARNESS_TOTP_SECRET": SEED},
        ],
        ids=["username only", "password only", "seed only"],
    )
    def test_credentials_given_by_half_are_refused(
        self, tmp_path: Path, given: dict[str, str]
    ) -> None:
        assert "given without" in refusal(tmp_path, **given)

    def test_a_totp_secret_that_is_not_base32_is_refused(self, tmp_path: Path) -> None:
        message = refusal(
            tmp_path,
            HARNESS_USERNAME="tester",
            HARNESS_PASSWORD=PASSWORD,
            HARNESS_TOTP_SECRET=SEED[:-1] + "1",
        )
        assert "HARNESS_TOTP_SECRET is not base32" in message
        assert SEED[:-1] not in message

    def test_a_totp_secret_spaced_in_lower_case_is_read_as_base32(self, tmp_path: Path) -> None:
        spaced = " ".join(SEED[i : i + 4] for i in range(0, len(SEED), 4)).lower()
        found = credentials(
            tmp_path,
            HARNESS_USERNAME="tester",
            HARNESS_PASSWORD=PASSWORD,
            HARNESS_TOTP_SECRET=spaced,
        )
        assert found is not None and found.totp_secret == SEED

    def test_the_password_and_seed_are_masked_in_the_repr(self, tmp_path: Path) -> None:
        found = credentials(
            tmp_path, HARNESS_USERNAME="tester", HARNESS_PASSWORD=PASSWORD, HARNESS_TOTP_SECRET=SEED
        )
        assert PASSWORD not in repr(found)
        assert SEED not in repr(found)


# The account scenarios, on one bundled server for the module.


@pytest.fixture(scope="module")
def target(server: BundledServer) -> Target:
    assert server.target is not None
    return server.target


@pytest.fixture
def client(target: Target) -> IndexClient:
    return IndexClient(target.base_url)


def logged_in(client: IndexClient, account: TestAccount) -> TestAccount:
    client.log_in_with_totp(account.username, account.password, account.totp.current())
    return account


@pytest.fixture
def fresh(target: Target, client: IndexClient) -> TestAccount:
    """A new account with TOTP (and the recovery codes the policy asks first), logged in."""
    return logged_in(client, AccountFactory(target).create(totp=True))


@pytest.fixture
def established(target: Target, client: IndexClient) -> TestAccount:
    """A logged-in account as a tester's might be: TOTP, the key "key 1" and a token."""
    account = logged_in(
        client, AccountFactory(target).create(totp=True, security_key=software_key("soft"))
    )
    client.create_api_token("tester's token", account.password)
    return account


def add_project(client: IndexClient, target: Target, account: TestAccount, tmp_path: Path) -> str:
    """Upload a first release of a new project with a token made for it; the project's name."""
    name = "p" + secrets.token_hex(5)
    token = client.create_api_token("upload " + name, account.password)
    wheel = build_wheel(tmp_path / "dist", name, "1.0")
    result = twine_upload(f"{target.base_url}/legacy/", "__token__", token, [wheel])
    assert result.succeeded, result.output
    return name


def add_key(client: IndexClient, account: TestAccount, label: str) -> None:
    answer = client.enrol_security_key(software_key("soft"), label, account.password)
    assert answer.succeeded, answer.errors


def remove_key(client: IndexClient, account: TestAccount, label: str) -> None:
    page = client.open_sensitive("/manage/account/two-factor/", account.password)
    form = f'#webauthn-keys li[data-label="{label}"] form.webauthn-delete-form'
    assert client.submit_page(page, form, confirm_device_name=label).status == 303


def remove_totp(client: IndexClient, account: TestAccount) -> None:
    page = client.open_sensitive("/manage/account/two-factor/", account.password)
    answer = client.submit_page(page, "form#remove-totp-form", confirm_password=account.password)
    assert answer.status == 303


class TestReadAccountState:
    def test_a_fresh_two_factor_account_has_totp_recovery_codes_and_nothing_else(
        self, client: IndexClient, fresh: TestAccount
    ) -> None:
        assert read_account_state(client, fresh.password) == FRESH

    def test_an_added_key_token_and_project_show_in_the_state(
        self, client: IndexClient, target: Target, fresh: TestAccount, tmp_path: Path
    ) -> None:
        add_key(client, fresh, "key 2")
        client.create_api_token("ci", fresh.password)
        project = add_project(client, target, fresh, tmp_path)
        state = read_account_state(client, fresh.password)
        assert state.security_keys == {"key 2"}
        assert state.api_tokens == {"ci", "upload " + project}
        assert state.projects == {project}

    def test_a_page_without_the_contracts_forms_is_a_contract_mismatch(
        self, client: IndexClient, target: Target
    ) -> None:
        # An unverified account's two-factor page offers no 2FA forms at all.
        account = AccountFactory(target).create(verified=False)
        assert client.login(account.username, account.password).status == 303
        with pytest.raises(ContractMismatch, match="neither a form removing TOTP"):
            read_account_state(client, account.password)

    def test_a_client_that_is_not_logged_in_is_a_contract_mismatch(
        self, client: IndexClient, target: Target
    ) -> None:
        with pytest.raises(ContractMismatch, match="answered 303"):
            read_account_state(client, PASSWORD)


class TestRestoreAccount:
    def test_what_the_test_added_is_undone_and_what_was_there_stays(
        self, client: IndexClient, target: Target, established: TestAccount, tmp_path: Path
    ) -> None:
        before = read_account_state(client, established.password)
        add_key(client, established, "key 2")
        client.create_api_token("scenario's token", established.password)
        add_project(client, target, established, tmp_path)
        assert restore_account(client, before, established.password) == []
        assert read_account_state(client, established.password) == before

    def test_a_key_removed_during_the_test_is_reported_not_re_added(
        self, client: IndexClient, established: TestAccount
    ) -> None:
        before = read_account_state(client, established.password)
        remove_key(client, established, "key 1")
        unrestored = restore_account(client, before, established.password)
        assert unrestored == [
            "security key 'key 1' was removed during the test and cannot be given back"
        ]
        assert read_account_state(client, established.password).security_keys == set()

    def test_a_token_removed_during_the_test_is_reported(
        self, client: IndexClient, established: TestAccount
    ) -> None:
        before = read_account_state(client, established.password)
        client.remove_api_token("tester's token", established.password)
        assert restore_account(client, before, established.password) == [
            'API token "tester\'s token" was removed during the test and cannot be given back'
        ]

    def test_an_added_key_left_as_the_last_method_is_reported_with_the_refusal(
        self, client: IndexClient, fresh: TestAccount
    ) -> None:
        before = read_account_state(client, fresh.password)
        add_key(client, fresh, "key 2")
        remove_totp(client, fresh)
        assert restore_account(client, before, fresh.password) == [
            "the TOTP application was removed during the test and cannot be given back",
            "security key 'key 2' was added during the test and could not be removed:"
            " Cannot remove last 2FA method",
        ]


class TestAccountGuard:
    def test_the_guard_restores_the_account_when_the_body_raises(
        self, client: IndexClient, established: TestAccount
    ) -> None:
        guard = AccountGuard(client, established.password)
        with pytest.raises(RuntimeError, match="the scenario failed"), guard:
            add_key(client, established, "key 2")
            client.create_api_token("scenario's token", established.password)
            raise RuntimeError("the scenario failed")
        assert guard.unrestored == []
        assert read_account_state(client, established.password) == guard.before

    def test_the_guard_reports_a_restore_that_could_not_read_the_account(
        self, client: IndexClient, fresh: TestAccount
    ) -> None:
        with AccountGuard(client, fresh.password) as guard:
            client.logout()
        assert len(guard.unrestored) == 1
        assert guard.unrestored[0].startswith("the account could not be restored: ")
