"""Security keys at protocol level: enrolment, login, and the relying party's checks
(W3C WebAuthn §7.1 and §7.2; FIDO server conformance), each fault beside its honest twin.

Every scenario runs with each kind of software key (``key_kind``): the soft key answering in
WebAuthn's JSON, and the CTAP2 device driven through python-fido2's ``Fido2Client``; a fault
runs with each kind that can have it."""

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from fido2 import cbor
from fido2.utils import websafe_decode, websafe_encode
from fido2.webauthn import AttestationObject

from harness.accounts import TestAccount
from harness.client import (
    WEBAUTHN_AUTHENTICATE,
    WEBAUTHN_PROVISION,
    HtmlPage,
    IndexClient,
    JsonAnswer,
    warehouse_credential,
)
from harness.mail import Mailbox
from harness.targets import Profile
from scenarios.webauthn.conftest import (
    ASSERTION_FAULTS,
    REGISTRATION_FAULTS,
    TWO_FACTOR_PAGE,
    key_labels,
    with_kinds,
)
from virtual_authenticators.base import NoCredentialError
from virtual_authenticators.ctap import CtapKey
from virtual_authenticators.faulty import Fault
from virtual_authenticators.kinds import software_key
from virtual_authenticators.soft import SoftKey

pytestmark = [pytest.mark.protocol, pytest.mark.needs("webauthn")]


@pytest.fixture
def soft_key_account(make_account) -> TestAccount:
    """An account whose key is the soft one, so that any fault can be turned on later."""
    return make_account(security_key=software_key("soft"))


def log_in_with_totp(client: IndexClient, account: TestAccount) -> HtmlPage:
    """Both login steps of ``account`` on ``client``, the second with a code of a fresh time
    step; the answer to the code."""
    account.totp.wait_for_fresh_step()
    return client.log_in_with_totp(account.username, account.password, account.totp.current())


def assertion_for_pending_login(
    client: IndexClient, account: TestAccount
) -> tuple[str, dict[str, Any]]:
    """The password step of ``account`` on ``client``, then its key's assertion for that
    pending login's options: the two-factor URL, and the assertion, not yet posted."""
    two_factor_url = client.password_step(account.username, account.password)
    options = client.webauthn_authenticate_options(two_factor_url).body
    return two_factor_url, account.security_key.get(options, client.origin)


def delete_key(client: IndexClient, account: TestAccount, label: str):
    page = client.open_sensitive(TWO_FACTOR_PAGE, account.password)
    form = f'#webauthn-keys li[data-label="{label}"] form.webauthn-delete-form'
    return client.submit_page(page, form, confirm_device_name=label)


class TestEnrol:
    @pytest.mark.requirement("WEBAUTHN-ENROL-01", "TWOFA-NOTIFY-01")
    def test_key_is_enrolled_listed_and_mailed(
        self, ready_for_two_factor, make_key, client, mailbox: Mailbox
    ) -> None:
        answer = client.enrol_security_key(make_key(), "my key", ready_for_two_factor.password)
        assert answer.succeeded, answer.errors
        assert key_labels(client, ready_for_two_factor) == ["my key"]
        mailbox.wait_for(ready_for_two_factor.email, "Two-factor method added")

    @pytest.mark.requirement("WEBAUTHN-ENROL-02", "WEBAUTHN-REG-OPTIONS-02")
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

    @pytest.mark.parametrize(
        ("kind", "fault"), with_kinds([None, *REGISTRATION_FAULTS], "registration")
    )
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

    @pytest.mark.parametrize(("kind", "fault"), with_kinds([None, *ASSERTION_FAULTS], "assertion"))
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

    @pytest.mark.requirement("WEBAUTHN-OWNER-01", "WEBAUTHN-ASSERT-OPTIONS-02")
    def test_key_of_another_user_is_refused(self, account, make_account, make_key, client) -> None:
        victim = make_account(security_key=make_key())
        two_factor_url = client.password_step(account.username, account.password)
        options = client.webauthn_authenticate_options(two_factor_url).body
        with pytest.raises(NoCredentialError):
            victim.security_key.get(options, client.origin)
        # The victim's key answers anyway when the page's list names the victim's key instead.
        victims = [{"type": "public-key", "id": websafe_encode(victim.security_key.credentials[0])}]
        stolen = victim.security_key.get({**options, "allowCredentials": victims}, client.origin)
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
        _, assertion = assertion_for_pending_login(first, account)
        second_url = second.password_step(account.username, account.password)
        second.webauthn_authenticate_options(second_url)
        assert not second.webauthn_authenticate_validate(second_url, assertion).succeeded

    @pytest.mark.requirement("WEBAUTHN-CHALLENGE-02")
    def test_challenge_is_spent_by_a_failed_attempt(self, account, client) -> None:
        url, assertion = assertion_for_pending_login(client, account)
        broken = {**assertion, "response": {**assertion["response"], "signature": "AAAA"}}
        assert not client.webauthn_authenticate_validate(url, broken).succeeded
        assert not client.webauthn_authenticate_validate(url, assertion).succeeded
        assert client.get("/manage/account/").status == 303

    @pytest.mark.requirement("WEBAUTHN-LOGIN-02")
    def test_totp_still_logs_in_while_a_key_is_enrolled(
        self, make_account, make_key, client
    ) -> None:
        account = make_account(totp=True, security_key=make_key())
        page = log_in_with_totp(client, account)
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
        log_in_with_totp(client, account)
        assert delete_key(client, account, "key 1").status == 303
        assert key_labels(client, account) == []

    @pytest.mark.requirement("TWOFA-LAST-METHOD-01", "TWOFA-LAST-METHOD-02")
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
        log_in_with_totp(manager, account)
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


class TestCredentialIds:
    @pytest.mark.requirement("WEBAUTHN-REG-CREDID-01")
    @pytest.mark.parametrize("fault", [None, Fault.FOREIGN_CREDENTIAL_ID], ids=["fresh", "taken"])
    @pytest.mark.parametrize("owner", ["same-user", "other-user"])
    def test_credential_id_registered_already_is_refused(
        self, ready_for_two_factor, make_account, client, owner: str, fault: Fault | None
    ) -> None:
        password = ready_for_two_factor.password
        if owner == "same-user":
            first = software_key("soft")
            assert client.enrol_security_key(first, "first", password).succeeded
            taken = first.credentials[0]
        else:
            taken = make_account(security_key=software_key("soft")).security_key.credentials[0]
        key = software_key("soft", fault)
        key.foreign_credential_id = taken
        answer = client.enrol_security_key(key, "second", password)
        assert answer.succeeded is (fault is None), answer.body
        assert ("second" in key_labels(client, ready_for_two_factor)) is (fault is None)

    @pytest.mark.requirement("WEBAUTHN-REG-CREDID-02")
    @pytest.mark.parametrize("length", [1023, 1024])
    def test_credential_id_longer_than_1023_bytes_is_refused(
        self, ready_for_two_factor, client, length: int
    ) -> None:
        key = software_key("soft", Fault.FOREIGN_CREDENTIAL_ID)
        key.foreign_credential_id = bytes(range(256)) * (length // 256) + b"\x01" * (length % 256)
        answer = client.enrol_security_key(key, "key", ready_for_two_factor.password)
        assert answer.succeeded is (length <= 1023), answer.body
        assert key_labels(client, ready_for_two_factor) == (["key"] if length <= 1023 else [])

    @pytest.mark.requirement("WEBAUTHN-ASSERT-ALLOWED-01")
    @pytest.mark.parametrize("fault", [None, Fault.FOREIGN_CREDENTIAL_ID], ids=["own", "unknown"])
    def test_assertion_naming_a_credential_the_index_never_allowed_is_refused(
        self, soft_key_account: TestAccount, client, fault: Fault | None
    ) -> None:
        account, key = soft_key_account, soft_key_account.security_key
        key.fault = fault
        key.foreign_credential_id = b"never-registered-credential-id-0"
        answer = client.log_in_with_key(account.username, account.password, key)
        assert answer.succeeded is (fault is None), answer.body
        assert (client.get("/manage/account/").status == 200) is (fault is None)


class TestAssertionDetails:
    @pytest.mark.requirement("WEBAUTHN-ASSERT-USERHANDLE-01")
    @pytest.mark.parametrize("user_handle", ["own", "absent", "other-user"])
    def test_user_handle_of_another_user_is_refused(
        self, make_account, make_key, client, user_handle: str
    ) -> None:
        account = make_account(security_key=make_key())
        other = make_account(security_key=make_key())
        two_factor_url = client.password_step(account.username, account.password)
        options = client.webauthn_authenticate_options(two_factor_url).body
        assertion = account.security_key.get(options, client.origin)
        if assertion["response"]["userHandle"] is None:
            pytest.skip("a U2F key returns no user handle: there is none to swap")
        handles = {
            "own": assertion["response"]["userHandle"],
            "absent": None,
            # The other user's handle, from an assertion of their own key.
            "other-user": other.security_key.get(
                {**options, "allowCredentials": []}, client.origin
            )["response"]["userHandle"],
        }
        assertion["response"]["userHandle"] = handles[user_handle]
        answer = client.webauthn_authenticate_validate(two_factor_url, assertion)
        accepted = user_handle != "other-user"
        assert answer.succeeded is accepted, answer.body
        assert (client.get("/manage/account/").status == 200) is accepted

    @pytest.mark.requirement("WEBAUTHN-ASSERT-COUNTER-02")
    def test_key_without_a_counter_keeps_logging_in(self, make_account, make_client) -> None:
        key = SoftKey(counter=False)
        account = make_account(security_key=key)
        for _ in range(3):
            answer = make_client().log_in_with_key(account.username, account.password, key)
            assert answer.succeeded, answer.body
        assert key.sign_count(key.credentials[0]) == 0

    @pytest.mark.requirement("WEBAUTHN-MALFORMED-02")
    @pytest.mark.parametrize(
        "damage",
        [
            "empty",
            "truncated-json",
            "missing-signature",
            "bad-base64url",
            "authenticator-data-short",
            "authenticator-data-leftover",
            "none",
        ],
    )
    def test_malformed_assertion_is_refused_without_a_server_error(
        self, make_account, make_key, client, damage: str
    ) -> None:
        account = make_account(security_key=make_key())
        answer = log_in_raw(client, account, lambda assertion: malformed(assertion, damage))
        assert answer.status < 500, answer.body
        assert answer.succeeded is (damage == "none"), answer.body
        assert (client.get("/manage/account/").status == 200) is (damage == "none")


def malformed(assertion: dict[str, Any], damage: str) -> dict[str, Any] | str:
    """``assertion`` broken as ``damage`` says (``none``: as it is), or a raw string to post."""
    response = assertion["response"]
    authenticator_data = websafe_decode(response["authenticatorData"])
    match damage:
        case "empty":
            return ""
        case "truncated-json":
            return warehouse_credential(assertion)[:-7]
        case "missing-signature":
            return {
                **assertion,
                "response": {k: v for k, v in response.items() if k != "signature"},
            }
        case "bad-base64url":
            return {**assertion, "response": {**response, "signature": "!!not*base64url!!"}}
        case "authenticator-data-short":
            short = websafe_encode(authenticator_data[:36])
            return {**assertion, "response": {**response, "authenticatorData": short}}
        case "authenticator-data-leftover":
            long = websafe_encode(authenticator_data + b"\x00\x01")
            return {**assertion, "response": {**response, "authenticatorData": long}}
    return assertion


class TestDeleteRules:
    @pytest.mark.requirement("TWOFA-REMOVE-02")
    @pytest.mark.parametrize("typed", ["key 1", "key 2", ""], ids=["same", "other", "empty"])
    def test_key_is_removed_only_when_its_label_is_typed_again(
        self, make_account, make_key, client, typed: str
    ) -> None:
        account = make_account(totp=True, security_key=make_key())
        log_in_with_totp(client, account)
        page = client.open_sensitive(TWO_FACTOR_PAGE, account.password)
        form = '#webauthn-keys li[data-label="key 1"] form.webauthn-delete-form'
        client.submit_page(page, form, confirm_device_name=typed)
        assert key_labels(client, account) == ([] if typed == "key 1" else ["key 1"])

    @pytest.mark.requirement("WEBAUTHN-DELETE-03")
    @pytest.mark.parametrize("requester", ["owner", "other-user"])
    def test_delete_naming_another_users_key_removes_nothing(
        self, make_account, make_key, make_client, requester: str
    ) -> None:
        owner = make_account(totp=True, security_key=make_key())
        other = make_account(totp=True)
        acting = owner if requester == "owner" else other
        client = make_client()
        log_in_with_totp(client, acting)
        page = client.open_sensitive(TWO_FACTOR_PAGE, acting.password)
        client.post(
            f"{WEBAUTHN_PROVISION}/delete",
            {"csrf_token": page.csrf_token(), "label": "key 1", "confirm_device_name": "key 1"},
        )
        still_logs_in = make_client().log_in_with_key(
            owner.username, owner.password, owner.security_key
        )
        assert still_logs_in.succeeded is (requester == "other-user"), still_logs_in.body


class TestCsrf:
    @pytest.mark.requirement("CSRF-06")
    @pytest.mark.parametrize("token", ["valid", "missing", "wrong"])
    def test_provisioning_needs_the_sessions_csrf_token(
        self, ready_for_two_factor, make_key, client, token: str
    ) -> None:
        page, options = client.webauthn_provision_options(ready_for_two_factor.password)
        credential = make_key().create(options, client.origin)
        fields = {"label": "key", "credential": warehouse_credential(credential)}
        answer = client.post(
            f"{WEBAUTHN_PROVISION}/validate",
            with_token(fields, str(page.one("#webauthn-provision-begin")["value"]), token),
        )
        assert answer.status == 200 if token == "valid" else 400 <= answer.status < 500
        assert key_labels(client, ready_for_two_factor) == (["key"] if token == "valid" else [])

    @pytest.mark.requirement("CSRF-06")
    @pytest.mark.parametrize("token", ["valid", "missing", "wrong"])
    def test_key_login_needs_the_sessions_csrf_token(
        self, make_account, make_key, client, token: str
    ) -> None:
        account = make_account(security_key=make_key())
        two_factor_url, assertion = assertion_for_pending_login(client, account)
        page = client.get(two_factor_url)
        fields = {"credential": warehouse_credential(assertion)}
        query = urlsplit(client.url(two_factor_url)).query
        answer = client.post(
            f"{WEBAUTHN_AUTHENTICATE}/validate?{query}",
            with_token(fields, str(page.one("#webauthn-auth-begin")["value"]), token),
        )
        assert answer.status == 200 if token == "valid" else 400 <= answer.status < 500
        assert (client.get("/manage/account/").status == 200) is (token == "valid")

    @pytest.mark.requirement("CSRF-06")
    @pytest.mark.parametrize("token", ["valid", "missing", "wrong"])
    def test_key_removal_needs_the_sessions_csrf_token(
        self, make_account, make_key, client, token: str
    ) -> None:
        account = make_account(totp=True, security_key=make_key())
        log_in_with_totp(client, account)
        page = client.open_sensitive(TWO_FACTOR_PAGE, account.password)
        fields = {"label": "key 1", "confirm_device_name": "key 1"}
        client.post(f"{WEBAUTHN_PROVISION}/delete", with_token(fields, page.csrf_token(), token))
        assert key_labels(client, account) == ([] if token == "valid" else ["key 1"])


def with_token(fields: dict[str, str], token: str, how: str) -> dict[str, str]:
    """``fields`` with the session's CSRF ``token`` (``valid``), none, or a ``wrong`` one."""
    if how == "missing":
        return fields
    return {**fields, "csrf_token": token if how == "valid" else token[::-1]}


class TestKeyRateLimit:
    @pytest.mark.requirement("RATE-2FA-03")
    @pytest.mark.parametrize("failures", ["below-the-limit", "at-the-limit"])
    def test_failed_assertions_count_toward_the_second_factor_limit(
        self, soft_key_account: TestAccount, make_client, exhaustible_limit, failures: str
    ) -> None:
        allowed = exhaustible_limit("two_factor_per_user")
        account, key = soft_key_account, soft_key_account.security_key
        key.fault = Fault.BAD_SIGNATURE
        for _ in range(allowed if failures == "at-the-limit" else allowed - 1):
            refused = make_client().log_in_with_key(account.username, account.password, key)
            assert not refused.succeeded
        key.fault = None
        client = make_client()
        answer = client.log_in_with_key(account.username, account.password, key)
        assert answer.succeeded is (failures == "below-the-limit"), answer.body
        assert (client.get("/manage/account/").status == 200) is (failures == "below-the-limit")


def enrol_raw(
    client: IndexClient, account: TestAccount, key: Any, damage: Callable[[dict], dict | str]
) -> JsonAnswer:
    """Enrol ``key`` as "key", posting its registration response as ``damage`` leaves it."""
    page, options = client.webauthn_provision_options(account.password)
    return client.webauthn_provision_validate(
        page, "key", damage(key.create(options, client.origin))
    )


def log_in_raw(
    client: IndexClient, account: TestAccount, damage: Callable[[dict], dict | str]
) -> JsonAnswer:
    """Both login steps, posting the account's key's assertion as ``damage`` leaves it."""
    two_factor_url, assertion = assertion_for_pending_login(client, account)
    return client.webauthn_authenticate_validate(two_factor_url, damage(assertion))


def replaced(credential: dict, **response: Any) -> dict:
    """``credential`` with these ``response`` members replaced (``None`` removes one)."""
    changed = {**credential["response"], **response}
    return {**credential, "response": {k: v for k, v in changed.items() if v is not None}}


def with_extension_outputs(credential: dict, outputs: str) -> str:
    """The credential as Warehouse's page posts it, its extension outputs replaced."""
    posted = json.loads(warehouse_credential(credential))
    for name in ("registrationClientExtensions", "assertionClientExtensions"):
        if name in posted:
            posted[name] = outputs
    return json.dumps(posted)


def with_attestation(credential: dict, fmt: str, statement: dict) -> dict:
    """``credential`` with its attestation object re-made with another format and statement."""
    attestation = AttestationObject(websafe_decode(credential["response"]["attestationObject"]))
    remade = AttestationObject.create(fmt, attestation.auth_data, statement)
    return replaced(credential, attestationObject=websafe_encode(remade))


NOT_JSON = websafe_encode(b"not { json")
NOT_UTF8 = websafe_encode(b"\xff\xfe\x00{")

REGISTRATION_DAMAGE: dict[str, Callable[[dict], dict | str]] = {
    "none": lambda credential: credential,
    "type-not-public-key": lambda credential: {**credential, "type": "password"},
    "no-attestation-object": lambda credential: replaced(credential, attestationObject=None),
    "no-client-data": lambda credential: replaced(credential, clientDataJSON=None),
    "client-data-not-json": lambda credential: replaced(credential, clientDataJSON=NOT_JSON),
    "client-data-not-utf8": lambda credential: replaced(credential, clientDataJSON=NOT_UTF8),
    "attestation-not-cbor": lambda credential: replaced(
        credential, attestationObject=websafe_encode(b"\xa3\x63fmt")
    ),
    "attestation-without-auth-data": lambda credential: replaced(
        credential, attestationObject=websafe_encode(cbor.encode({"fmt": "none", "attStmt": {}}))
    ),
    "extensions-not-json": lambda credential: with_extension_outputs(credential, "{nope"),
    "extensions-not-an-object": lambda credential: with_extension_outputs(credential, "[1, 2]"),
    "unknown-format": lambda credential: with_attestation(credential, "x-unknown", {}),
    "none-with-a-statement": lambda credential: with_attestation(credential, "none", {"x": 1}),
}
"""Each way a registration response is broken (§7.1 steps 3, 5, 6, 12, 17, 18, 19), and
``none``, the honest twin; the requirement each one checks is in the test's parameters."""

REGISTRATION_DAMAGE_REQUIREMENTS = {
    "none": "WEBAUTHN-REG-TRUST-01",
    "type-not-public-key": "WEBAUTHN-REG-RESPONSE-01",
    "no-attestation-object": "WEBAUTHN-REG-RESPONSE-01",
    "no-client-data": "WEBAUTHN-REG-RESPONSE-01",
    "client-data-not-json": "WEBAUTHN-REG-CLIENTDATA-01",
    "client-data-not-utf8": "WEBAUTHN-REG-CLIENTDATA-01",
    "attestation-not-cbor": "WEBAUTHN-REG-ATTOBJ-01",
    "attestation-without-auth-data": "WEBAUTHN-REG-ATTOBJ-01",
    "extensions-not-json": "WEBAUTHN-REG-EXTENSIONS-01",
    "extensions-not-an-object": "WEBAUTHN-REG-EXTENSIONS-01",
    "unknown-format": "WEBAUTHN-REG-FMT-01",
    "none-with-a-statement": "WEBAUTHN-REG-ATTSTMT-01",
}

ASSERTION_DAMAGE: dict[str, Callable[[dict], dict | str]] = {
    "none": lambda assertion: assertion,
    "type-not-public-key": lambda assertion: {**assertion, "type": "password"},
    "no-authenticator-data": lambda assertion: replaced(assertion, authenticatorData=None),
    "no-client-data": lambda assertion: replaced(assertion, clientDataJSON=None),
    "client-data-not-json": lambda assertion: replaced(assertion, clientDataJSON=NOT_JSON),
    "client-data-not-utf8": lambda assertion: replaced(assertion, clientDataJSON=NOT_UTF8),
    "extensions-not-json": lambda assertion: with_extension_outputs(assertion, "{nope"),
    "extensions-not-an-object": lambda assertion: with_extension_outputs(assertion, '"text"'),
}
"""Each way an assertion response is broken (§7.2 steps 3, 9, 10, 18), and ``none``."""

ASSERTION_DAMAGE_REQUIREMENTS = {
    "none": "WEBAUTHN-LOGIN-01",
    "type-not-public-key": "WEBAUTHN-ASSERT-RESPONSE-01",
    "no-authenticator-data": "WEBAUTHN-ASSERT-RESPONSE-01",
    "no-client-data": "WEBAUTHN-ASSERT-RESPONSE-01",
    "client-data-not-json": "WEBAUTHN-ASSERT-CLIENTDATA-01",
    "client-data-not-utf8": "WEBAUTHN-ASSERT-CLIENTDATA-01",
    "extensions-not-json": "WEBAUTHN-ASSERT-EXTENSIONS-01",
    "extensions-not-an-object": "WEBAUTHN-ASSERT-EXTENSIONS-01",
}


def damage_params(requirements: dict[str, str]) -> list:
    return [
        pytest.param(damage, id=damage, marks=pytest.mark.requirement(requirement))
        for damage, requirement in requirements.items()
    ]


class TestResponseStructure:
    @pytest.mark.parametrize("damage", damage_params(REGISTRATION_DAMAGE_REQUIREMENTS))
    def test_broken_registration_is_refused_with_a_client_error(
        self, ready_for_two_factor, make_key, client, damage: str
    ) -> None:
        answer = enrol_raw(client, ready_for_two_factor, make_key(), REGISTRATION_DAMAGE[damage])
        assert answer.status < 500, answer.body
        assert answer.succeeded is (damage == "none"), answer.body
        assert key_labels(client, ready_for_two_factor) == (["key"] if damage == "none" else [])

    @pytest.mark.parametrize("damage", damage_params(ASSERTION_DAMAGE_REQUIREMENTS))
    def test_broken_assertion_is_refused_with_a_client_error(
        self, make_account, make_key, client, damage: str
    ) -> None:
        account = make_account(security_key=make_key())
        answer = log_in_raw(client, account, ASSERTION_DAMAGE[damage])
        assert answer.status < 500, answer.body
        assert answer.succeeded is (damage == "none"), answer.body
        assert (client.get("/manage/account/").status == 200) is (damage == "none")

    @pytest.mark.requirement("WEBAUTHN-REG-ATTSTMT-01", "WEBAUTHN-REG-TRUST-01")
    @pytest.mark.parametrize("fault", [None, Fault.BAD_SIGNATURE], ids=["honest", "bad-signature"])
    def test_packed_self_attestation_must_verify(
        self, ready_for_two_factor, client, fault: Fault | None
    ) -> None:
        key = CtapKey(attestation="packed", fault=fault)
        answer = client.enrol_security_key(key, "key", ready_for_two_factor.password)
        assert answer.succeeded is (fault is None), answer.body
        assert key_labels(client, ready_for_two_factor) == (["key"] if fault is None else [])


class TestOptions:
    @pytest.mark.requirement("WEBAUTHN-REG-OPTIONS-01")
    def test_creation_options_carry_a_fresh_challenge_of_16_bytes_or_more(
        self, ready_for_two_factor, client
    ) -> None:
        challenges = [
            websafe_decode(
                client.webauthn_provision_options(ready_for_two_factor.password)[1]["challenge"]
            )
            for _ in range(3)
        ]
        assert min(len(challenge) for challenge in challenges) >= 16
        assert len(set(challenges)) == 3

    @pytest.mark.requirement("WEBAUTHN-ASSERT-OPTIONS-01")
    def test_request_options_carry_a_fresh_challenge_of_16_bytes_or_more(
        self, make_account, make_key, make_client
    ) -> None:
        account = make_account(security_key=make_key())
        challenges = []
        for _ in range(3):
            client = make_client()
            url = client.password_step(account.username, account.password)
            challenges.append(
                websafe_decode(client.webauthn_authenticate_options(url).body["challenge"])
            )
        assert min(len(challenge) for challenge in challenges) >= 16
        assert len(set(challenges)) == 3


class TestUserVerificationPolicy:
    @pytest.mark.requirement("WEBAUTHN-REG-UV-01")
    @pytest.mark.parametrize("fault", [None, Fault.UV_MISSING], ids=["honest", "uv-missing"])
    def test_registration_needs_uv_exactly_when_the_options_require_it(
        self, ready_for_two_factor, client, fault: Fault | None
    ) -> None:
        _, options = client.webauthn_provision_options(ready_for_two_factor.password)
        required = (options.get("authenticatorSelection") or {}).get("userVerification")
        answer = client.enrol_security_key(
            software_key("soft", fault), "key", ready_for_two_factor.password
        )
        refused = fault is Fault.UV_MISSING and required == "required"
        assert answer.succeeded is not refused, answer.body

    @pytest.mark.requirement("WEBAUTHN-ASSERT-UV-01")
    @pytest.mark.parametrize("fault", [None, Fault.UV_MISSING], ids=["honest", "uv-missing"])
    def test_assertion_needs_uv_exactly_when_the_options_require_it(
        self, soft_key_account: TestAccount, client, fault: Fault | None
    ) -> None:
        account, key = soft_key_account, soft_key_account.security_key
        key.fault = fault
        two_factor_url = client.password_step(account.username, account.password)
        options = client.webauthn_authenticate_options(two_factor_url).body
        answer = client.webauthn_authenticate_validate(
            two_factor_url, key.get(options, client.origin)
        )
        refused = fault is Fault.UV_MISSING and options.get("userVerification") == "required"
        assert answer.succeeded is not refused, answer.body


class TestStoredFor:
    @pytest.mark.requirement("WEBAUTHN-REG-STORE-01")
    def test_registration_is_stored_for_the_session_user_whatever_the_request_names(
        self, ready_for_two_factor, make_account, make_key, client, make_client
    ) -> None:
        other = make_account(totp=True)
        page, options = client.webauthn_provision_options(ready_for_two_factor.password)
        key = make_key()
        credential = warehouse_credential(key.create(options, client.origin))
        token = str(page.one("#webauthn-provision-begin")["value"])
        answer = client.json_post(
            f"{WEBAUTHN_PROVISION}/validate",
            {
                "csrf_token": token,
                "label": "key",
                "credential": credential,
                "username": other.username,
                "user_id": "1",
            },
        )
        assert answer.succeeded, answer.body
        assert key_labels(client, ready_for_two_factor) == ["key"]
        other_client = make_client()
        log_in_with_totp(other_client, other)
        assert key_labels(other_client, other) == []
        logs_in = make_client().log_in_with_key(
            ready_for_two_factor.username, ready_for_two_factor.password, key
        )
        assert logs_in.succeeded, logs_in.body
