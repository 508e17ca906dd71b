"""The honest keys (soft-webauthn based, and the CTAP2 device through Fido2Client) against
python-fido2's relying party: the contract every authenticator keeps."""

import pytest
from fido2.cose import ES256
from fido2.utils import websafe_decode, websafe_encode

from virtual_authenticators.base import (
    Authenticator,
    ExcludedCredentialError,
    NoCredentialError,
    UnsupportedAlgorithmError,
)
from virtual_authenticators.ctap import CtapKey
from virtual_authenticators.soft import SoftKey

from .ceremonies import authenticate, authenticator_data, counters, register

HONEST_KEYS = {"soft": SoftKey, "ctap": CtapKey}


@pytest.fixture(params=list(HONEST_KEYS))
def make_key(request):
    """Makes a new key of one kind."""
    return HONEST_KEYS[request.param]


def test_key_is_an_authenticator(make_key):
    assert isinstance(make_key(), Authenticator)


def test_registration_response_has_the_browsers_json_shape(make_key, relying_party):
    options, _ = relying_party.registration_options()

    response = make_key().create(options, relying_party.origin)

    assert response["id"] == response["rawId"]
    assert "=" not in response["id"]
    assert response["type"] == "public-key"
    assert set(response["response"]) == {"clientDataJSON", "attestationObject", "transports"}
    assert response["response"]["transports"] == ["usb"]
    assert response["clientExtensionResults"] == {}
    assert response["authenticatorAttachment"] == "cross-platform"


def test_assertion_response_has_the_browsers_json_shape(make_key, relying_party):
    key = make_key()
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


def test_registration_is_accepted_with_an_es256_credential(make_key, relying_party):
    auth_data = register(make_key(), relying_party)

    assert auth_data.credential_data.public_key.ALGORITHM == ES256.ALGORITHM
    assert auth_data.counter == 0


def test_assertion_is_accepted(make_key, relying_party):
    key = make_key()
    register(key, relying_party)

    credential = authenticate(key, relying_party)

    assert credential.credential_id == key.credentials[0]


def test_one_key_holds_several_credentials_and_each_authenticates(make_key, relying_party):
    key = make_key()
    first = register(key, relying_party, user_id=b"user-1").credential_data
    second = register(key, relying_party, user_id=b"user-2").credential_data

    assert key.credentials == (first.credential_id, second.credential_id)
    assert authenticate(key, relying_party, [first]) == first
    assert authenticate(key, relying_party, [second]) == second


def test_counter_starts_at_zero_and_rises_by_one_per_assertion(make_key, relying_party):
    key = make_key()
    register(key, relying_party)

    assert counters(key, relying_party, times=3) == [1, 2, 3]
    assert key.sign_count(key.credentials[0]) == 3


def test_a_soft_key_without_a_counter_reports_zero_on_every_assertion(relying_party):
    key = SoftKey(counter=False)
    register(key, relying_party)

    assert counters(key, relying_party, times=3) == [0, 0, 0]
    assert authenticate(key, relying_party)


def test_set_sign_count_is_where_the_next_assertion_continues(make_key, relying_party):
    key = make_key()
    register(key, relying_party)
    key.set_sign_count(key.credentials[0], 41)

    assert counters(key, relying_party, times=1) == [42]


def test_a_sign_count_beyond_32_bits_is_refused(make_key, relying_party):
    key = make_key()
    register(key, relying_party)

    with pytest.raises(ValueError, match="32 bits"):
        key.set_sign_count(key.credentials[0], 2**32)


def test_a_key_listed_in_exclude_credentials_refuses_to_register_again(make_key, relying_party):
    key = make_key()
    register(key, relying_party)
    options, _ = relying_party.registration_options()

    with pytest.raises(ExcludedCredentialError, match=key.credentials[0].hex()[:16]):
        key.create(options, relying_party.origin)


def test_another_keys_credential_in_exclude_credentials_does_not_stop_registration(
    make_key, relying_party
):
    register(make_key(), relying_party)

    assert register(make_key(), relying_party).credential_data is not None


def test_a_key_holding_nothing_allowed_refuses_to_assert(make_key, relying_party):
    register(make_key(), relying_party)
    options, _ = relying_party.authentication_options()

    with pytest.raises(NoCredentialError):
        make_key().get(options, relying_party.origin)


def test_allow_credentials_chooses_which_credential_signs(make_key, relying_party):
    key = make_key()
    first = register(key, relying_party, user_id=b"user-1").credential_data
    register(key, relying_party, user_id=b"user-2")
    options, _ = relying_party.authentication_options([first])

    assert websafe_decode(key.get(options, relying_party.origin)["rawId"]) == first.credential_id


def test_with_no_allow_credentials_the_newest_credential_for_the_rp_id_answers(
    make_key, relying_party
):
    key = make_key()
    register(key, relying_party, user_id=b"user-1")
    register(key, relying_party, user_id=b"user-2")
    options, _ = relying_party.authentication_options()

    response = key.get({**options, "allowCredentials": []}, relying_party.origin)

    assert websafe_decode(response["rawId"]) == key.credentials[1]


def test_rp_id_defaults_to_the_origins_host(make_key, relying_party):
    key = make_key()
    register(key, relying_party)
    options, state = relying_party.authentication_options()
    del options["rpId"]

    assert relying_party.authenticate(state, key.get(options, relying_party.origin))


def test_a_key_refuses_to_register_when_es256_is_not_offered(make_key, relying_party):
    options, _ = relying_party.registration_options()
    options["pubKeyCredParams"] = [p for p in options["pubKeyCredParams"] if p["alg"] == -257]

    with pytest.raises(UnsupportedAlgorithmError, match=r"offered COSE algorithms \[-257\]"):
        make_key().create(options, relying_party.origin)


# When a key sets UV: the soft key stands for a key whose PIN was entered when UV is required;
# Fido2Client asks the CTAP2 device's built-in UV unless the relying party discourages it.
SETS_UV_WHEN = {"soft": {"required"}, "ctap": {"required", "preferred"}}


@pytest.mark.parametrize("requirement", ["required", "preferred", "discouraged"])
@pytest.mark.parametrize("kind", list(HONEST_KEYS))
def test_registration_sets_uv_as_the_key_is_asked(relying_party, kind, requirement):
    auth_data = register(HONEST_KEYS[kind](), relying_party, user_verification=requirement)

    assert auth_data.is_user_verified() == (requirement in SETS_UV_WHEN[kind])


@pytest.mark.parametrize("requirement", ["required", "preferred", "discouraged"])
@pytest.mark.parametrize("kind", list(HONEST_KEYS))
def test_assertion_sets_up_and_uv_as_the_key_is_asked(relying_party, kind, requirement):
    key = HONEST_KEYS[kind]()
    register(key, relying_party)
    options, _ = relying_party.authentication_options(user_verification=requirement)

    flags = authenticator_data(key.get(options, relying_party.origin))

    assert flags.is_user_present()
    assert flags.is_user_verified() == (requirement in SETS_UV_WHEN[kind])


def test_a_soft_key_holding_another_keys_credential_authenticates_with_it(relying_party):
    original = SoftKey()
    register(original, relying_party)
    (credential_id,) = original.credentials
    authenticate(original, relying_party)

    restored = SoftKey()
    restored.hold(original.credential(credential_id).device)

    assert restored.credentials == (credential_id,)
    authenticate(restored, relying_party)
    assert restored.sign_count(credential_id) == 2  # where the original left it, plus one
