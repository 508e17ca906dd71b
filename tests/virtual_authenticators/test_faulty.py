"""Each faulty key against python-fido2's relying party, beside its honest twin: the
soft-webauthn based ``FaultyKey`` with every fault, the CTAP2 device through Fido2Client with
the faults that live inside an authenticator.

Where ``Fido2Server`` leaves a check to the relying party (the counter, replays, whose
credential it is, the algorithm), the test shows the property a relying party must check.
"""

import json
from typing import Literal

import pytest
from cryptography.exceptions import InvalidSignature
from fido2.cose import RS1
from fido2.utils import websafe_decode
from fido2.webauthn import CollectedClientData

from virtual_authenticators.base import AuthenticatorError, NoCredentialError
from virtual_authenticators.faulty import Fault, FaultyKey
from virtual_authenticators.kinds import SOFTWARE_KEYS, USER_VERIFYING, kinds_with, software_key
from virtual_authenticators.soft import SoftKey

from .ceremonies import REFUSALS, attestation_object, counters, register, registered_algorithm
from .ceremonies import authenticate as _authenticate

# No signature is made at registration with `none` attestation.
REFUSED_AT_REGISTRATION = [fault for fault in REFUSALS if fault is not Fault.BAD_SIGNATURE]
REFUSED_AT_ASSERTION = list(REFUSALS)
LEFT_TO_THE_RELYING_PARTY = [
    Fault.TOKEN_BINDING_PRESENT,
    Fault.COUNTER_BACKWARDS,
    Fault.COUNTER_FROZEN,
    Fault.UNSUPPORTED_ALGORITHM,
    Fault.FOREIGN_CREDENTIAL_ID,
    Fault.REPLAYED_ASSERTION,
]


# These tests ask for user verification, which U2F has not: the U2F key's faults and twins are
# in test_u2f.py.
KINDS = [kind for kind in SOFTWARE_KEYS if kind in USER_VERIFYING]


def keys_with(*faults: Fault, ceremony: Literal["registration", "assertion"] = "assertion"):
    """``(kind, fault)`` for each key that can have each fault, as test parameters."""
    return [
        pytest.param(kind, fault, id=f"{kind}-{fault.value}")
        for kind, fault in kinds_with(faults, ceremony)
        if kind in KINDS
    ]


@pytest.fixture(params=KINDS)
def honest_twin(request):
    """Each faulty key with no fault."""
    return software_key(request.param)


def assert_with(key, relying_party, credentials=None):
    """Ask ``key`` for an assertion (UV required) and have the relying party verify it."""
    return _authenticate(key, relying_party, credentials, "required")


def test_every_fault_is_checked_here():
    checked = {*REFUSED_AT_ASSERTION, *LEFT_TO_THE_RELYING_PARTY}

    assert checked == set(Fault)


def test_honest_twin_registers(honest_twin, relying_party):
    assert register(honest_twin, relying_party, user_verification="required").is_user_verified()


@pytest.mark.parametrize(
    ("kind", "fault"), keys_with(*REFUSED_AT_REGISTRATION, ceremony="registration")
)
def test_faulty_registration_is_refused(relying_party, kind, fault):
    key = software_key(kind, fault)

    with pytest.raises(ValueError, match=REFUSALS[fault]):
        register(key, relying_party, user_verification="required")


def test_honest_twin_asserts(honest_twin, relying_party):
    register(honest_twin, relying_party)

    assert assert_with(honest_twin, relying_party).credential_id == honest_twin.credentials[0]


@pytest.mark.parametrize(("kind", "fault"), keys_with(*REFUSED_AT_ASSERTION))
def test_faulty_assertion_is_refused(relying_party, kind, fault):
    key = software_key(kind)
    register(key, relying_party)
    key.fault = fault

    with pytest.raises(ValueError, match=REFUSALS[fault]):
        assert_with(key, relying_party)


def test_honest_twins_counter_rises(honest_twin, relying_party):
    register(honest_twin, relying_party)
    honest_twin.set_sign_count(honest_twin.credentials[0], 10)

    first, second = counters(honest_twin, relying_party)

    assert 10 < first < second


@pytest.mark.parametrize(("kind", "fault"), keys_with(Fault.COUNTER_BACKWARDS))
def test_backwards_counter_falls_below_the_previous_one(relying_party, kind, fault):
    key = software_key(kind, fault)
    register(key, relying_party)
    key.set_sign_count(key.credentials[0], 10)

    first, second = counters(key, relying_party)

    assert second < first < 10


@pytest.mark.parametrize(("kind", "fault"), keys_with(Fault.COUNTER_BACKWARDS))
def test_backwards_counter_cannot_start_from_zero(relying_party, kind, fault):
    key = software_key(kind, fault)
    register(key, relying_party)

    with pytest.raises(AuthenticatorError):
        counters(key, relying_party, times=1)


@pytest.mark.parametrize(("kind", "fault"), keys_with(Fault.COUNTER_FROZEN))
def test_frozen_counter_repeats_a_non_zero_count(relying_party, kind, fault):
    key = software_key(kind, fault)
    register(key, relying_party)

    first, second = counters(key, relying_party)

    assert first == second != 0


@pytest.mark.parametrize(("kind", "fault"), keys_with(Fault.COUNTER_FROZEN))
def test_frozen_counter_signs_valid_assertions(relying_party, kind, fault):
    key = software_key(kind, fault)
    register(key, relying_party)
    assert_with(key, relying_party)

    assert assert_with(key, relying_party).credential_id == key.credentials[0]


def test_honest_twin_registers_an_offered_algorithm(honest_twin, relying_party):
    options, _ = relying_party.registration_options()
    offered = {param["alg"] for param in options["pubKeyCredParams"]}

    assert registered_algorithm(honest_twin.create(options, relying_party.origin)) in offered


@pytest.mark.parametrize(
    ("kind", "fault"), keys_with(Fault.UNSUPPORTED_ALGORITHM, ceremony="registration")
)
def test_unsupported_algorithm_registers_a_key_whose_alg_was_not_offered(
    relying_party, kind, fault
):
    options, _ = relying_party.registration_options()
    offered = {param["alg"] for param in options["pubKeyCredParams"]}

    alg = registered_algorithm(software_key(kind, fault).create(options, relying_party.origin))

    assert alg == RS1.ALGORITHM
    assert alg not in offered


@pytest.fixture
def victim(relying_party):
    """Another user's credential, registered by their own honest key."""
    return register(SoftKey(), relying_party, user_id=b"victim").credential_data


def test_honest_twin_has_nothing_to_answer_for_another_users_credential(relying_party, victim):
    key = FaultyKey(None, foreign_credential_id=victim.credential_id)
    register(key, relying_party, user_id=b"attacker")

    with pytest.raises(NoCredentialError):
        assert_with(key, relying_party, [victim])


def test_foreign_credential_id_is_refused_when_verified_with_that_credentials_key(
    relying_party, victim
):
    key = FaultyKey(None, foreign_credential_id=victim.credential_id)
    register(key, relying_party, user_id=b"attacker")
    key.fault = Fault.FOREIGN_CREDENTIAL_ID

    with pytest.raises(ValueError, match=REFUSALS[Fault.BAD_SIGNATURE]):
        assert_with(key, relying_party, [victim])


def test_foreign_credential_id_names_a_credential_its_signing_key_does_not_belong_to(
    relying_party, victim
):
    key = FaultyKey(None, foreign_credential_id=victim.credential_id)
    own = register(key, relying_party, user_id=b"attacker").credential_data
    key.fault = Fault.FOREIGN_CREDENTIAL_ID
    options, _ = relying_party.authentication_options([victim])

    assertion = key.get(options, relying_party.origin)
    client_data = CollectedClientData(websafe_decode(assertion["response"]["clientDataJSON"]))
    signed = websafe_decode(assertion["response"]["authenticatorData"]) + client_data.hash
    signature = websafe_decode(assertion["response"]["signature"])

    assert websafe_decode(assertion["rawId"]) == victim.credential_id
    own.public_key.verify(signed, signature)
    with pytest.raises(InvalidSignature):
        victim.public_key.verify(signed, signature)


def test_foreign_credential_id_is_the_id_a_registration_names(relying_party):
    foreign = bytes(range(64))
    options, _ = relying_party.registration_options()

    registration = FaultyKey(Fault.FOREIGN_CREDENTIAL_ID, foreign).create(
        options, relying_party.origin
    )

    named = attestation_object(registration).auth_data.credential_data.credential_id
    assert websafe_decode(registration["rawId"]) == named == foreign


def client_data_of(response: dict) -> dict:
    return json.loads(websafe_decode(response["response"]["clientDataJSON"]))


def test_honest_twin_claims_no_token_binding(honest_twin, relying_party):
    options, _ = relying_party.registration_options()

    assert "tokenBinding" not in client_data_of(honest_twin.create(options, relying_party.origin))


def test_token_binding_present_is_claimed_in_the_client_data(relying_party):
    options, _ = relying_party.registration_options()

    response = FaultyKey(Fault.TOKEN_BINDING_PRESENT).create(options, relying_party.origin)

    assert client_data_of(response)["tokenBinding"]["status"] == "present"


def test_honest_twin_answers_each_challenge_afresh(relying_party):
    key = FaultyKey(None)
    register(key, relying_party)
    assert_with(key, relying_party)

    assert assert_with(key, relying_party).credential_id == key.credentials[0]


def test_replayed_assertion_is_refused_for_a_new_challenge(relying_party):
    key = FaultyKey(Fault.REPLAYED_ASSERTION)
    register(key, relying_party)
    assert_with(key, relying_party)

    with pytest.raises(ValueError, match=REFUSALS[Fault.WRONG_CHALLENGE]):
        assert_with(key, relying_party)


def test_replayed_assertion_is_byte_identical_to_the_previous_one(relying_party):
    key = FaultyKey(Fault.REPLAYED_ASSERTION)
    register(key, relying_party)

    options, _ = relying_party.authentication_options()

    first = key.get(options, relying_party.origin)
    second = key.get(options, relying_party.origin)

    assert first == second
