"""WebAuthn security keys: provisioning, removal and the login step, with soft-webauthn as key."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

from soft_webauthn import SoftWebauthnDevice

from reference_server.webauthn import b64url, b64url_decode

ORIGIN = "http://localhost"  # Flask's test client talks to http://localhost
PROVISION = "/manage/account/webauthn-provision"


def from_b64url(text: str) -> bytes:
    return b64url_decode(text, "test value")


def encode(value: bytes) -> str:
    return b64url(value)


class Key(SoftWebauthnDevice):
    """A soft key that speaks the server's JSON; ``fixed_id`` forces its credential id."""

    def __init__(self, fixed_id: bytes | None = None) -> None:
        super().__init__()
        self.fixed_id = fixed_id

    def cred_init(self, rp_id: str, user_handle: bytes) -> None:
        super().cred_init(rp_id, user_handle)
        if self.fixed_id is not None:
            self.credential_id = self.fixed_id

    def register(self, options: dict, origin: str = ORIGIN) -> str:
        public_key = {
            **options,
            "challenge": from_b64url(options["challenge"]),
            "user": {**options["user"], "id": from_b64url(options["user"]["id"])},
        }
        made = self.create({"publicKey": public_key}, origin)
        return json.dumps(
            {
                "id": encode(made["rawId"]),
                "rawId": encode(made["rawId"]),
                "type": "public-key",
                "response": {
                    "attestationObject": encode(made["response"]["attestationObject"]),
                    "clientDataJSON": encode(made["response"]["clientDataJSON"]),
                },
                "registrationClientExtensions": "{}",
            }
        )

    def assert_(self, options: dict, origin: str = ORIGIN) -> str:
        public_key = {**options, "challenge": from_b64url(options["challenge"])}
        made = self.get({"publicKey": public_key}, origin)
        response = made["response"]
        return json.dumps(
            {
                "id": encode(made["rawId"]),
                "rawId": encode(made["rawId"]),
                "type": "public-key",
                "response": {
                    "authenticatorData": encode(response["authenticatorData"]),
                    "clientDataJSON": encode(response["clientDataJSON"]),
                    "signature": encode(response["signature"]),
                    "userHandle": encode(response["userHandle"]),
                },
                "assertionClientExtensions": "{}",
            }
        )


def prepare(flow) -> None:
    """Register, verify the email, generate recovery codes and burn one (stay logged in)."""
    assert flow.register().status_code == 303
    assert flow.verify_email().status_code == 303
    assert flow.burn(flow.generate_codes()[0]).status_code == 303


def provision_options(flow) -> dict:
    response = flow.client.get(f"{PROVISION}/options")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def enroll(flow, key: Key, label: str = "my key"):
    credential = key.register(provision_options(flow))
    return flow.post(f"{PROVISION}/validate", {"label": label, "credential": credential})


def another_user(flow, name: str = "bob"):
    """A second user on the same server, in their own browser."""
    other = type(flow)(flow.app, flow.clock, flow.mail)
    other.username, other.email = name, f"{name}@example.com"
    return other


def start_login(flow) -> str:
    """The password step; returns the pending-login token (the query string)."""
    flow.logout()
    return flow.two_factor_url(flow.login()).split("?", 1)[1]


def login_options(flow, token: str) -> dict:
    return flow.client.get(f"/account/webauthn-authenticate/options?{token}").get_json()


def submit_assertion(flow, token: str, credential: str, **extra: str):
    return flow.post(
        f"/account/webauthn-authenticate/validate?{token}", {"credential": credential, **extra}
    )


def login_with(flow, key: Key):
    token = start_login(flow)
    return submit_assertion(flow, token, key.assert_(login_options(flow, token)))


def test_a_key_is_enrolled_and_the_user_is_told(flow):
    prepare(flow)
    response = enroll(flow, Key())
    assert response.status_code == 200
    assert response.get_json() == {"success": "Security device successfully set up"}
    assert "Two-factor method added" in flow.mail.subjects()
    page = flow.client.get("/manage/account/two-factor/").get_data(as_text=True)
    assert 'data-label="my key"' in page
    assert 'class="webauthn-delete-form"' in page


def test_the_creation_options_follow_warehouses_shape(flow):
    prepare(flow)
    options = provision_options(flow)
    assert options["attestation"] == "none"
    assert options["authenticatorSelection"] == {
        "requireResidentKey": False,
        "userVerification": "discouraged",
    }
    assert [p["alg"] for p in options["pubKeyCredParams"]] == [-7, -8, -257]
    assert options["rp"] == {"id": "localhost", "name": "Reference package index"}
    assert options["timeout"] == 60000
    assert options["user"]["name"] == "alice"
    assert "=" not in options["challenge"] + options["user"]["id"]
    assert options["user"]["id"] == provision_options(flow)["user"]["id"]  # stable handle


def test_a_user_can_enroll_two_keys(flow):
    prepare(flow)
    assert "success" in enroll(flow, Key(), "first").get_json()
    assert "success" in enroll(flow, Key(), "second").get_json()
    page = flow.client.get("/manage/account/two-factor/").get_data(as_text=True)
    assert 'data-label="first"' in page and 'data-label="second"' in page


def test_exclude_credentials_lists_the_users_existing_keys(flow):
    prepare(flow)
    key = Key()
    enroll(flow, key)
    excluded = provision_options(flow)["excludeCredentials"]
    assert excluded == [{"id": encode(key.credential_id), "type": "public-key"}]


def test_a_missing_label_is_refused(flow):
    prepare(flow)
    assert enroll(flow, Key(), "").get_json() == {"fail": {"errors": ["Specify a label"]}}


def test_a_label_of_65_characters_is_refused(flow):
    prepare(flow)
    response = enroll(flow, Key(), "x" * 65)
    assert response.get_json() == {"fail": {"errors": ["Label must be 64 characters or less"]}}
    assert "success" in enroll(flow, Key(), "x" * 64).get_json()


def test_a_label_already_in_use_by_the_user_is_refused(flow):
    prepare(flow)
    enroll(flow, Key(), "usb")
    assert enroll(flow, Key(), "usb").get_json() == {
        "fail": {"errors": ["Label 'usb' already in use"]}
    }


def test_a_credential_id_enrolled_by_another_user_is_refused(flow):
    prepare(flow)
    shared = os.urandom(32)
    enroll(flow, Key(shared))
    bob = another_user(flow)
    prepare(bob)
    assert enroll(bob, Key(shared)).get_json() == {
        "fail": {"errors": ["Credential ID already in use"]}
    }


def test_a_credential_id_over_1023_bytes_is_refused(flow):
    prepare(flow)
    response = enroll(flow, Key(os.urandom(1024)))
    assert response.get_json() == {"fail": {"errors": ["Invalid WebAuthn credential"]}}


def test_provisioning_needs_recovery_codes_first(flow):
    flow.register()
    flow.verify_email()
    assert flow.client.get(PROVISION).headers["Location"] == (
        "/manage/account/recovery-codes/generate"
    )
    assert flow.client.get(f"{PROVISION}/options").status_code == 403


def test_a_provisioning_challenge_is_single_use(flow):
    prepare(flow)
    credential = Key().register(provision_options(flow))
    wrong = flow.post(f"{PROVISION}/validate", {"label": "", "credential": credential})
    assert "fail" in wrong.get_json()
    again = flow.post(f"{PROVISION}/validate", {"label": "ok", "credential": credential})
    assert again.get_json() == {
        "fail": {"errors": ["No security device set-up is pending: start again"]}
    }


def test_malformed_credential_json_gives_400_fail_not_500(flow):
    prepare(flow)
    for credential in ("{not json", '{"type":"public-key","id":"!!","response":{}}', "[]"):
        provision_options(flow)
        response = flow.post(f"{PROVISION}/validate", {"label": "k", "credential": credential})
        assert response.status_code == 400
        assert "fail" in response.get_json()


def test_a_user_with_a_key_logs_in_with_it(flow):
    prepare(flow)
    key = Key()
    enroll(flow, key)
    token = start_login(flow)
    page = flow.client.get(f"/account/two-factor/?{token}").get_data(as_text=True)
    assert 'id="webauthn-auth-form"' in page and 'id="webauthn-auth-begin"' in page
    options = login_options(flow, token)
    assert options["allowCredentials"] == [{"id": encode(key.credential_id), "type": "public-key"}]
    assert options["rpId"] == "localhost" and options["userVerification"] == "discouraged"
    response = submit_assertion(flow, token, key.assert_(options), remember_device="true")
    assert response.get_json() == {"success": "Successful WebAuthn assertion", "redirect_to": "/"}
    assert "remember_device=" in response.headers["Set-Cookie"] or any(
        "remember_device=" in h for h in response.headers.getlist("Set-Cookie")
    )
    assert flow.client.get("/manage/account/").status_code == 200


def test_an_assertion_whose_counter_does_not_increase_is_refused(flow):
    prepare(flow)
    key = Key()
    enroll(flow, key)
    assert "success" in login_with(flow, key).get_json()
    key.sign_count = 0  # the next assertion carries 1 again: a cloned key's signature
    assert login_with(flow, key).get_json() == {"fail": {"errors": ["Invalid WebAuthn credential"]}}


def test_a_key_whose_counter_stays_zero_is_accepted(flow):
    prepare(flow)
    key = Key()
    enroll(flow, key)
    for _ in range(2):
        key.sign_count = -1  # soft-webauthn adds one before signing: the assertion says 0
        assert "success" in login_with(flow, key).get_json()


def test_another_users_credential_is_refused_at_login(flow):
    prepare(flow)
    alices_key = Key()
    enroll(flow, alices_key)
    bob = another_user(flow)
    prepare(bob)
    enroll(bob, Key())
    token = start_login(bob)
    response = submit_assertion(bob, token, alices_key.assert_(login_options(bob, token)))
    assert response.get_json() == {"fail": {"errors": ["Invalid WebAuthn credential"]}}


def test_a_replayed_assertion_is_refused(flow):
    prepare(flow)
    key = Key()
    enroll(flow, key)
    token = start_login(flow)
    credential = key.assert_(login_options(flow, token))
    submit_assertion(flow, token, '{"type": "public-key"}')  # any validate spends the challenge
    assert submit_assertion(flow, token, credential).get_json() == {
        "fail": {"errors": ["Invalid WebAuthn credential"]}
    }


def test_login_options_without_a_pending_login_are_refused(flow):
    prepare(flow)
    enroll(flow, Key())
    flow.logout()
    response = flow.client.get("/account/webauthn-authenticate/options?not-a-token")
    assert response.get_json() == {"fail": {"errors": ["Invalid or expired two factor login."]}}


def test_malformed_assertion_gives_400_fail_not_500(flow):
    prepare(flow)
    enroll(flow, Key())
    token = start_login(flow)
    login_options(flow, token)
    response = submit_assertion(flow, token, base64.b64encode(b"\xff").decode())
    assert response.status_code == 400
    assert response.get_json() == {"fail": {"errors": ["Invalid WebAuthn credential"]}}


def delete_key(flow, label: str, confirm: str | None = None):
    return flow.post(
        f"{PROVISION}/delete",
        {"label": label, "confirm_device_name": label if confirm is None else confirm},
    )


def test_the_last_key_cannot_be_removed_in_the_current_profile(flow):
    prepare(flow)
    enroll(flow, Key(), "only")
    delete_key(flow, "only")
    page = flow.client.get("/manage/account/two-factor/").get_data(as_text=True)
    assert "Cannot remove last 2FA method" in page
    assert 'data-label="only"' in page


def test_a_key_is_removed_when_totp_remains(flow):
    prepare(flow)
    enroll(flow, Key(), "usb")
    assert flow.provision_totp().status_code == 303
    response = delete_key(flow, "usb")
    assert response.headers["Location"] == "/manage/account/two-factor/"
    page = flow.client.get("/manage/account/two-factor/").get_data(as_text=True)
    assert "Security device removed" in page
    assert 'data-label="usb"' not in page
    assert "Two-factor method removed" in flow.mail.subjects()


def test_a_key_is_kept_when_the_confirmation_differs(flow):
    prepare(flow)
    enroll(flow, Key(), "usb")
    flow.provision_totp()
    delete_key(flow, "usb", confirm="usb2")
    assert 'data-label="usb"' in flow.client.get("/manage/account/two-factor/").get_data(
        as_text=True
    )


def test_help_explains_rp_id_and_origin():
    result = subprocess.run(
        [sys.executable, "-m", "reference_server", "--help"],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert "--rp-id" in result.stdout and "--origin" in result.stdout


def test_a_configured_origin_refuses_responses_from_another(make_flow):
    flow = make_flow(origin="https://pypi.example.org", rp_id="localhost")
    prepare(flow)
    response = enroll(flow, Key())
    assert response.get_json() == {"fail": {"errors": ["Invalid WebAuthn credential"]}}
