"""Security keys at protocol level: enrolment, login, and the relying party's checks
(W3C WebAuthn §7.1 and §7.2; FIDO server conformance), each fault beside its honest twin.

Every scenario runs with each kind of software key (``key_kind``): the soft key answering in
WebAuthn's JSON, and the CTAP2 device driven through python-fido2's ``Fido2Client``; a fault
runs with each kind that can have it."""

import pytest

from harness.accounts import TestAccount
from harness.client import IndexClient
from harness.mail import Mailbox
from harness.targets import Profile
from scenarios.webauthn.conftest import ASSERTION_FAULTS, REGISTRATION_FAULTS, with_kinds
from virtual_authenticators.base import NoCredentialError
from virtual_authenticators.faulty import Fault
from virtual_authenticators.kinds import software_key

pytestmark = pytest.mark.protocol

TWO_FACTOR_PAGE = "/manage/account/two-factor/"


def key_labels(client: IndexClient, account: TestAccount) -> list[str]:
    page = client.open_sensitive(TWO_FACTOR_PAGE, account.password)
    return [str(item["data-label"]) for item in page.select("#webauthn-keys li[data-label]")]


def delete_key(client: IndexClient, account: TestAccount, label: str):
    page = client.open_sensitive(TWO_FACTOR_PAGE, account.password)
    form = f'#webauthn-keys li[data-label="{label}"] form.webauthn-delete-form'
    return client.submit_page(page, form, confirm_device_name=label)


class TestEnrol:
    @pytest.mark.requirement("WEBAUTHN-ENROL-01")
    def test_key_is_enrolled_listed_and_mailed(
        self, ready_for_two_factor, make_key, client, mailbox: Mailbox
    ) -> None:
        answer = client.enrol_security_key(make_key(), "my key", ready_for_two_factor.password)
        assert answer.succeeded, answer.errors
        assert key_labels(client, ready_for_two_factor) == ["my key"]
        mailbox.wait_for(ready_for_two_factor.email, "Two-factor method added")

    @pytest.mark.requirement("WEBAUTHN-ENROL-02")
    def test_second_key_is_enrolled_and_the_first_is_excluded(
        self, ready_for_two_factor, make_key, client
    ) -> None:
        first, second = make_key(), make_key()
        assert client.enrol_security_key(first, "first", ready_for_two_factor.password).succeeded
        _, options = client.webauthn_provision_options(ready_for_two_factor.password)
        excluded = [item["id"] for item in options["excludeCredentials"]]
        assert len(excluded) == 1
        assert client.enrol_security_key(second, "second", ready_for_two_factor.password).succeeded
        assert sorted(key_labels(client, ready_for_two_factor)) == ["first", "second"]

    @pytest.mark.requirement("WEBAUTHN-LABEL-01")
    @pytest.mark.parametrize("label", ["", "x" * 65], ids=["empty", "65-characters"])
    def test_bad_label_is_refused(self, ready_for_two_factor, make_key, client, label: str) -> None:
        answer = client.enrol_security_key(make_key(), label, ready_for_two_factor.password)
        assert not answer.succeeded
        assert answer.errors
        assert key_labels(client, ready_for_two_factor) == []

    @pytest.mark.requirement("WEBAUTHN-LABEL-01")
    def test_label_of_64_characters_is_accepted(
        self, ready_for_two_factor, make_key, client
    ) -> None:
        answer = client.enrol_security_key(make_key(), "x" * 64, ready_for_two_factor.password)
        assert answer.succeeded, answer.errors

    @pytest.mark.requirement("WEBAUTHN-LABEL-02")
    def test_label_in_use_is_refused(self, ready_for_two_factor, make_key, client) -> None:
        password = ready_for_two_factor.password
        assert client.enrol_security_key(make_key(), "same", password).succeeded
        answer = client.enrol_security_key(make_key(), "same", password)
        assert not answer.succeeded
        assert key_labels(client, ready_for_two_factor) == ["same"]

    @pytest.mark.requirement("WEBAUTHN-REG-FAULTS")
    @pytest.mark.parametrize(("kind", "fault"), with_kinds([None, *REGISTRATION_FAULTS]))
    def test_registration_is_refused_for_each_fault_and_accepted_from_the_honest_twin(
        self, ready_for_two_factor, client, kind: str, fault: Fault | None
    ) -> None:
        key = software_key(kind, fault)
        answer = client.enrol_security_key(key, "key", ready_for_two_factor.password)
        assert answer.succeeded is (fault is None), answer.body
        assert key_labels(client, ready_for_two_factor) == (["key"] if fault is None else [])

    @pytest.mark.requirement("WEBAUTHN-MALFORMED-01")
    @pytest.mark.parametrize(
        "credential",
        [
            "",
            "{",
            "[]",
            '{"id": "x"}',
            '{"id":"!!","rawId":"!!","type":"public-key",'
            '"response":{"attestationObject":"AAAA","clientDataJSON":"AAAA"}}',
        ],
        ids=["empty", "truncated-json", "not-an-object", "missing-fields", "bad-cbor"],
    )
    def test_malformed_registration_is_refused_without_a_server_error(
        self, ready_for_two_factor, client, credential: str
    ) -> None:
        page, _ = client.webauthn_provision_options(ready_for_two_factor.password)
        answer = client.webauthn_provision_validate(page, "key", credential)
        assert 400 <= answer.status < 500 or (answer.status == 200 and answer.errors)
        assert key_labels(client, ready_for_two_factor) == []


class TestKeyLogin:
    @pytest.fixture
    def account(self, make_account, make_key) -> TestAccount:
        return make_account(security_key=make_key())

    @pytest.mark.requirement("WEBAUTHN-LOGIN-01")
    def test_key_completes_the_login(self, account, client) -> None:
        answer = client.log_in_with_key(account.username, account.password, account.security_key)
        assert answer.succeeded, answer.errors
        assert answer.body["redirect_to"].startswith("/")
        assert client.get("/manage/account/").status == 200

    @pytest.mark.requirement("WEBAUTHN-ASSERT-FAULTS")
    @pytest.mark.parametrize(("kind", "fault"), with_kinds([None, *ASSERTION_FAULTS]))
    def test_assertion_is_refused_for_each_fault_and_accepted_from_the_honest_twin(
        self, make_account, make_client, kind: str, fault: Fault | None
    ) -> None:
        key = software_key(kind)
        account = make_account(security_key=key)
        # One honest login first, so that the counter is above zero and there is an earlier
        # assertion to replay.
        assert make_client().log_in_with_key(account.username, account.password, key).succeeded
        key.fault = fault
        client = make_client()
        answer = client.log_in_with_key(account.username, account.password, key)
        assert answer.succeeded is (fault is None), answer.body
        assert (client.get("/manage/account/").status == 200) is (fault is None)

    @pytest.mark.requirement("WEBAUTHN-OWNER-01")
    def test_key_of_another_user_is_refused(self, account, make_account, make_key, client) -> None:
        victim = make_account(security_key=make_key())
        two_factor_url = client.password_step(account.username, account.password)
        options = client.webauthn_authenticate_options(two_factor_url).body
        with pytest.raises(NoCredentialError):
            victim.security_key.get(options, client.origin)
        # The victim's key answers anyway when the page's list of keys is taken away.
        stolen = victim.security_key.get({**options, "allowCredentials": []}, client.origin)
        answer = client.webauthn_authenticate_validate(two_factor_url, stolen)
        assert not answer.succeeded
        assert client.get("/manage/account/").status == 303

    @pytest.mark.requirement("WEBAUTHN-OWNER-01")
    def test_credential_id_of_another_user_is_refused(self, make_account, make_key, client) -> None:
        victim = make_account(security_key=make_key())
        # Naming another credential than the one that signs is a client's fault: the soft key's.
        key = software_key("soft")
        account = make_account(security_key=key)
        key.fault = Fault.FOREIGN_CREDENTIAL_ID
        key.foreign_credential_id = victim.security_key.credentials[0]
        answer = client.log_in_with_key(account.username, account.password, key)
        assert not answer.succeeded
        assert client.get("/manage/account/").status == 303

    @pytest.mark.requirement("WEBAUTHN-OPTIONS-01")
    @pytest.mark.parametrize("query", ["", "not-a-token"], ids=["no-token", "bad-token"])
    def test_options_without_a_pending_login_are_refused(self, client, query: str) -> None:
        answer = client.json_get(f"/account/webauthn-authenticate/options?{query}")
        assert "challenge" not in answer.body
        assert answer.body.get("fail", {}).get("errors")

    @pytest.mark.requirement("WEBAUTHN-CHALLENGE-01")
    def test_assertion_for_one_pending_login_is_refused_in_another(
        self, account, make_client
    ) -> None:
        first, second = make_client(), make_client()
        first_url = first.password_step(account.username, account.password)
        options = first.webauthn_authenticate_options(first_url).body
        assertion = account.security_key.get(options, first.origin)
        second_url = second.password_step(account.username, account.password)
        second.webauthn_authenticate_options(second_url)
        assert not second.webauthn_authenticate_validate(second_url, assertion).succeeded

    @pytest.mark.requirement("WEBAUTHN-CHALLENGE-02")
    def test_challenge_is_spent_by_a_failed_attempt(self, account, client) -> None:
        url = client.password_step(account.username, account.password)
        options = client.webauthn_authenticate_options(url).body
        assertion = account.security_key.get(options, client.origin)
        broken = {**assertion, "response": {**assertion["response"], "signature": "AAAA"}}
        assert not client.webauthn_authenticate_validate(url, broken).succeeded
        assert not client.webauthn_authenticate_validate(url, assertion).succeeded
        assert client.get("/manage/account/").status == 303

    @pytest.mark.requirement("WEBAUTHN-LOGIN-02")
    def test_totp_still_logs_in_while_a_key_is_enrolled(
        self, make_account, make_key, client
    ) -> None:
        account = make_account(totp=True, security_key=make_key())
        account.totp.wait_for_fresh_step()
        page = client.log_in_with_totp(account.username, account.password, account.totp.current())
        assert page.status == 303
        assert client.get("/manage/account/").status == 200

    @pytest.mark.requirement("WEBAUTHN-LOGIN-03")
    def test_recovery_code_logs_in_while_a_key_is_enrolled(
        self, make_account, make_key, client
    ) -> None:
        account = make_account(recovery_codes=True, security_key=make_key())
        url = client.password_step(account.username, account.password)
        assert client.recovery_code_login(url, account.unused_recovery_code()).status == 303
        assert client.get("/manage/account/").status == 200


class TestDeleteKey:
    @pytest.mark.requirement("WEBAUTHN-DELETE-01")
    def test_key_is_removed_when_another_method_remains(
        self, make_account, make_key, client
    ) -> None:
        account = make_account(totp=True, security_key=make_key())
        account.totp.wait_for_fresh_step()
        client.log_in_with_totp(account.username, account.password, account.totp.current())
        assert delete_key(client, account, "key 1").status == 303
        assert key_labels(client, account) == []

    @pytest.mark.requirement("TWOFA-LAST-METHOD-01")
    def test_last_key_is_kept_or_removed_as_the_policy_says(
        self, make_account, make_key, client, target_profile: Profile
    ) -> None:
        account = make_account(security_key=make_key())
        assert client.log_in_with_key(
            account.username, account.password, account.security_key
        ).succeeded
        delete_key(client, account, "key 1")
        expected = [] if target_profile.last_method_removable else ["key 1"]
        assert key_labels(client, account) == expected

    @pytest.mark.requirement("WEBAUTHN-DELETE-02")
    def test_removed_key_no_longer_logs_in(self, make_account, make_key, make_client) -> None:
        account = make_account(totp=True, security_key=make_key())
        manager = make_client()
        account.totp.wait_for_fresh_step()
        manager.log_in_with_totp(account.username, account.password, account.totp.current())
        delete_key(manager, account, "key 1")
        client = make_client()
        url = client.password_step(account.username, account.password)
        options = client.webauthn_authenticate_options(url)
        # A server may refuse already here (no keys left), or at the assertion.
        if "challenge" in options.body:
            unlisted = {**options.body, "allowCredentials": []}
            assertion = account.security_key.get(unlisted, client.origin)
            assert not client.webauthn_authenticate_validate(url, assertion).succeeded
        else:
            assert options.errors
        assert client.get("/manage/account/").status == 303
