"""The honest software key against python-fido2's relying party."""

import pytest
from fido2.cose import ES256
from fido2.utils import websafe_decode, websafe_encode
from fido2.webauthn import AuthenticatorData

from virtual_authenticators.base import (
    Authenticator,
    ExcludedCredentialError,
    NoCredentialError,
    UnsupportedAlgorithmError,
)
from virtual_authenticators.soft import SoftKey


def authenticator_data(assertion: dict) -> AuthenticatorData:
    return AuthenticatorData(websafe_decode(assertion["response"]["authenticatorData"]))


def register(key, relying_party, user_id=b"user-1", user_verification=None):
    options, state = relying_party.registration_options(user_id, user_verification)
    return relying_party.register(state, key.create(options, relying_party.origin))


def authenticate(key, relying_party, credentials=None, user_verification=None):
    options, state = relying_party.authentication_options(credentials, user_verification)
    return relying_party.authenticate(state, key.get(options, relying_party.origin), credentials)


def test_soft_key_is_an_authenticator():
    assert isinstance(SoftKey(), Authenticator)


def test_registration_response_has_the_browsers_json_shape(relying_party):
    options, _ = relying_party.registration_options()

    response = SoftKey().create(options, relying_party.origin)

    assert response["id"] == response["rawId"]
    assert "=" not in response["id"]
    assert response["type"] == "public-key"
    assert set(response["response"]) == {"clientDataJSON", "attestationObject", "transports"}
    assert response["clientExtensionResults"] == {}
    assert response["authenticatorAttachment"] == "cross-platform"


def test_assertion_response_has_the_browsers_json_shape(relying_party):
    key = SoftKey()
    register(key, relying_party, user_id=b"user-7")
    options, _ = relying_party.authentication_options()

    response = key.get(options, relying_party.origin)

    assert response["id"] == response["rawId"] == websafe_encode(key.credentials[0])
    assert set(response["response"]) == {
        "clientDataJSON",
        "authenticatorData",
        "signature",
        "userHandle",
    }
    assert websafe_decode(response["response"]["userHandle"]) == b"user-7"
    assert response["authenticatorAttachment"] == "cross-platform"


def test_registration_is_accepted_with_an_es256_credential(relying_party):
    auth_data = register(SoftKey(), relying_party)

    assert auth_data.credential_data.public_key.ALGORITHM == ES256.ALGORITHM
    assert auth_data.counter == 0


def test_assertion_is_accepted(relying_party):
    key = SoftKey()
    register(key, relying_party)

    credential = authenticate(key, relying_party)

    assert credential.credential_id == key.credentials[0]


def test_one_key_holds_several_credentials_and_each_authenticates(relying_party):
    key = SoftKey()
    first = register(key, relying_party, user_id=b"user-1").credential_data
    second = register(key, relying_party, user_id=b"user-2").credential_data

    assert key.credentials == (first.credential_id, second.credential_id)
    assert authenticate(key, relying_party, [first]) == first
    assert authenticate(key, relying_party, [second]) == second


def test_counter_starts_at_zero_and_rises_by_one_per_assertion(relying_party):
    key = SoftKey()
    register(key, relying_party)
    options, _ = relying_party.authentication_options()

    counts = [authenticator_data(key.get(options, relying_party.origin)).counter for _ in "abc"]

    assert counts == [1, 2, 3]
    assert key.sign_count(key.credentials[0]) == 3


def test_set_sign_count_is_where_the_next_assertion_continues(relying_party):
    key = SoftKey()
    register(key, relying_party)
    key.set_sign_count(key.credentials[0], 41)
    options, _ = relying_party.authentication_options()

    assert authenticator_data(key.get(options, relying_party.origin)).counter == 42


def test_a_key_listed_in_exclude_credentials_refuses_to_register_again(relying_party):
    key = SoftKey()
    register(key, relying_party)
    options, _ = relying_party.registration_options()

    with pytest.raises(ExcludedCredentialError):
        key.create(options, relying_party.origin)


def test_a_key_holding_nothing_allowed_refuses_to_assert(relying_party):
    register(SoftKey(), relying_party)
    options, _ = relying_party.authentication_options()

    with pytest.raises(NoCredentialError):
        SoftKey().get(options, relying_party.origin)


def test_allow_credentials_chooses_which_credential_signs(relying_party):
    key = SoftKey()
    first = register(key, relying_party, user_id=b"user-1").credential_data
    register(key, relying_party, user_id=b"user-2")
    options, _ = relying_party.authentication_options([first])

    assert websafe_decode(key.get(options, relying_party.origin)["rawId"]) == first.credential_id


def test_rp_id_defaults_to_the_origins_host(relying_party):
    key = SoftKey()
    register(key, relying_party)
    options, state = relying_party.authentication_options()
    del options["rpId"]

    assert relying_party.authenticate(state, key.get(options, relying_party.origin))


def test_a_key_refuses_to_register_when_es256_is_not_offered(relying_party):
    options, _ = relying_party.registration_options()
    options["pubKeyCredParams"] = [p for p in options["pubKeyCredParams"] if p["alg"] != -7]

    with pytest.raises(UnsupportedAlgorithmError):
        SoftKey().create(options, relying_party.origin)


@pytest.mark.parametrize("requirement", ["required", "preferred", "discouraged"])
def test_registration_sets_uv_only_when_required(relying_party, requirement):
    auth_data = register(SoftKey(), relying_party, user_verification=requirement)

    assert auth_data.is_user_verified() == (requirement == "required")


@pytest.mark.parametrize("requirement", ["required", "preferred", "discouraged"])
def test_assertion_sets_uv_only_when_required(relying_party, requirement):
    key = SoftKey()
    register(key, relying_party)
    options, _ = relying_party.authentication_options(user_verification=requirement)

    flags = authenticator_data(key.get(options, relying_party.origin))

    assert flags.is_user_present()
    assert flags.is_user_verified() == (requirement == "required")
