"""The software keys against two independent verifiers: python-fido2 and py_webauthn.

py_webauthn (``import webauthn``) is the library Warehouse itself verifies WebAuthn with, and it
shares no code with the keys (which are built on python-fido2 and soft-webauthn). Both verifiers
get the very dicts a key returns for options built as the index builds them (see
``warehouse-contract.md``, "WebAuthn provisioning" and "WebAuthn login"). Where both check a
fault, their verdicts must agree; a disagreement fails with both verdicts in its message.

Both verify the attestation statement too (py_webauthn always does; python-fido2 with
:func:`verify_statement`), so the CTAP key's ``packed`` self attestation is checked twice.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest
import webauthn
from fido2.attestation import Attestation
from fido2.attestation.base import InvalidAttestation
from fido2.server import Fido2Server
from fido2.utils import websafe_decode, websafe_encode
from fido2.webauthn import (
    AttestationObject,
    AttestedCredentialData,
    AuthenticatorData,
    CollectedClientData,
    UserVerificationRequirement,
)
from webauthn.helpers import parse_attestation_object
from webauthn.helpers.exceptions import (
    InvalidAuthenticationResponse,
    InvalidRegistrationResponse,
)

from virtual_authenticators.ctap import CtapKey
from virtual_authenticators.faulty import Fault, FaultyKey
from virtual_authenticators.soft import SoftKey

pytestmark = pytest.mark.filterwarnings("ignore:Deprecated use of webauthn_json_mapping")

RP_ID = "localhost"
ORIGIN = "http://localhost:8000"
# The COSE algorithms the index offers: ES256, EdDSA, RS256.
OFFERED_ALGORITHMS = [-7, -8, -257]

# Faults both verifiers check. Left out on purpose, as neither verifier can judge them from one
# response: the counter faults (python-fido2 leaves the counter to the relying party; py_webauthn
# compares it with a stored count, so the verdicts would differ by design, not by a bug), the
# foreign credential id (which credential belongs to whom is the relying party's lookup), and the
# replayed assertion (single-use challenges live in the relying party's session).
# UNSUPPORTED_ALGORITHM is judged differently by the two, see its own test below.
CHECKED_BY_BOTH = [
    Fault.WRONG_ORIGIN,
    Fault.WRONG_RP_ID_HASH,
    Fault.WRONG_CHALLENGE,
    Fault.WRONG_TYPE,
    Fault.UP_CLEARED,
    Fault.UV_MISSING,
    Fault.BAD_SIGNATURE,
]
# Registration with `none` attestation signs nothing, so a bad signature only shows in assertions.
CHECKED_AT_REGISTRATION = [fault for fault in CHECKED_BY_BOTH if fault is not Fault.BAD_SIGNATURE]
CHECKED_AT_ASSERTION = CHECKED_BY_BOTH

HONEST_KEYS = {
    "SoftKey": SoftKey,
    "FaultyKey(None)": lambda: FaultyKey(None),
    "CtapKey(packed)": lambda: CtapKey(attestation="packed"),
    "CtapKey(none)": lambda: CtapKey(attestation="none"),
}


@dataclass(frozen=True)
class Verdict:
    """One verifier's judgement of one response: accepted, or refused and why."""

    accepted: bool
    reason: str = ""

    def __str__(self) -> str:
        return "accepted" if self.accepted else f"refused ({self.reason})"


@dataclass
class Ceremony:
    """The relying party's side of one ceremony: its challenge and user verification level."""

    challenge: bytes
    user_verification: str = "discouraged"

    @classmethod
    def new(cls, user_verification: str = "discouraged") -> Ceremony:
        return cls(os.urandom(32), user_verification)

    @property
    def uv_required(self) -> bool:
        return self.user_verification == "required"

    def fido2_state(self, server: Fido2Server, begin: str) -> Any:
        """Fido2Server's state for this challenge; the options it builds are not used."""
        uv = UserVerificationRequirement(self.user_verification)
        if begin == "register":
            user = {"id": b"user-1", "name": "alice", "displayName": "Alice"}
            _, state = server.register_begin(user, challenge=self.challenge, user_verification=uv)
        else:
            _, state = server.authenticate_begin(challenge=self.challenge, user_verification=uv)
        return state


def creation_options(ceremony: Ceremony) -> dict[str, Any]:
    """``PublicKeyCredentialCreationOptionsJSON`` as the index sends it."""
    return {
        "attestation": "none",
        "authenticatorSelection": {
            "requireResidentKey": False,
            "userVerification": ceremony.user_verification,
        },
        "challenge": websafe_encode(ceremony.challenge),
        "excludeCredentials": [],
        "pubKeyCredParams": [{"alg": alg, "type": "public-key"} for alg in OFFERED_ALGORITHMS],
        "rp": {"id": RP_ID, "name": "PyPI"},
        "timeout": 60000,
        "user": {"displayName": "Alice", "id": websafe_encode(b"user-1"), "name": "alice"},
    }


def request_options(ceremony: Ceremony, credential_id: bytes) -> dict[str, Any]:
    """``PublicKeyCredentialRequestOptionsJSON`` as the index sends it."""
    return {
        "allowCredentials": [{"id": websafe_encode(credential_id), "type": "public-key"}],
        "challenge": websafe_encode(ceremony.challenge),
        "rpId": RP_ID,
        "timeout": 60000,
        "userVerification": ceremony.user_verification,
    }


def verify_statement(attestation_object: AttestationObject, client_data_hash: bytes) -> None:
    """python-fido2's check of the attestation statement of the object's format, with no trust
    path (self and ``none`` attestation have none): what py_webauthn checks of them."""
    verifier = Attestation.for_type(attestation_object.fmt)()
    verifier.verify(attestation_object.att_stmt, attestation_object.auth_data, client_data_hash)


def fido2_registration(ceremony: Ceremony, response: dict[str, Any]) -> Verdict:
    server = Fido2Server(
        {"id": RP_ID, "name": "PyPI"}, attestation="direct", verify_attestation=verify_statement
    )
    try:
        server.register_complete(
            ceremony.fido2_state(server, "register"),
            CollectedClientData(websafe_decode(response["response"]["clientDataJSON"])),
            AttestationObject(websafe_decode(response["response"]["attestationObject"])),
        )
    except (ValueError, InvalidAttestation) as error:
        return Verdict(False, str(error) or type(error).__name__)
    return Verdict(True)


def py_webauthn_registration(ceremony: Ceremony, response: dict[str, Any]) -> Verdict:
    try:
        webauthn.verify_registration_response(
            credential=response,
            expected_challenge=ceremony.challenge,
            expected_origin=ORIGIN,
            expected_rp_id=RP_ID,
            require_user_verification=ceremony.uv_required,
            supported_pub_key_algs=OFFERED_ALGORITHMS,
        )
    except InvalidRegistrationResponse as error:
        return Verdict(False, str(error))
    return Verdict(True)


def fido2_assertion(
    ceremony: Ceremony, response: dict[str, Any], credential: AttestedCredentialData
) -> Verdict:
    server = Fido2Server({"id": RP_ID, "name": "PyPI"})
    try:
        server.authenticate_complete(
            ceremony.fido2_state(server, "authenticate"),
            [credential],
            websafe_decode(response["rawId"]),
            CollectedClientData(websafe_decode(response["response"]["clientDataJSON"])),
            AuthenticatorData(websafe_decode(response["response"]["authenticatorData"])),
            websafe_decode(response["response"]["signature"]),
        )
    except ValueError as error:
        return Verdict(False, str(error))
    return Verdict(True)


def py_webauthn_assertion(
    ceremony: Ceremony, response: dict[str, Any], public_key: bytes, sign_count: int
) -> tuple[Verdict, int | None]:
    """py_webauthn's verdict and, when it accepts, the new sign count it reports."""
    try:
        verified = webauthn.verify_authentication_response(
            credential=response,
            expected_challenge=ceremony.challenge,
            expected_rp_id=RP_ID,
            expected_origin=ORIGIN,
            credential_public_key=public_key,
            credential_current_sign_count=sign_count,
            require_user_verification=ceremony.uv_required,
        )
    except InvalidAuthenticationResponse as error:
        return Verdict(False, str(error)), None
    return Verdict(True), verified.new_sign_count


@dataclass
class Registered:
    """A credential as each verifier stores it, parsed by each from the same registration."""

    credential_id: bytes
    fido2_credential: AttestedCredentialData
    py_webauthn_public_key: bytes


def registered(response: dict[str, Any]) -> Registered:
    """The credential in a registration response, each verifier parsing it its own way and
    without judging it (so that a faulty key's assertions can be checked as well)."""
    attestation = websafe_decode(response["response"]["attestationObject"])
    fido2_credential = AttestationObject(attestation).auth_data.credential_data
    attested = parse_attestation_object(attestation).auth_data.attested_credential_data
    assert fido2_credential is not None
    assert attested is not None
    return Registered(
        websafe_decode(response["rawId"]), fido2_credential, attested.credential_public_key
    )


def disagreement(fido2: Verdict, py_webauthn: Verdict) -> str:
    return f"the verifiers disagree: fido2: {fido2}; py_webauthn: {py_webauthn}"


# Honest keys


@pytest.mark.parametrize("make_key", HONEST_KEYS.values(), ids=HONEST_KEYS)
def test_honest_registration_is_accepted_by_both_verifiers(make_key):
    ceremony = Ceremony.new()
    response = make_key().create(creation_options(ceremony), ORIGIN)

    fido2 = fido2_registration(ceremony, response)
    py_webauthn = py_webauthn_registration(ceremony, response)

    assert fido2.accepted and py_webauthn.accepted, f"fido2: {fido2}; py_webauthn: {py_webauthn}"


@pytest.mark.parametrize("make_key", HONEST_KEYS.values(), ids=HONEST_KEYS)
def test_two_successive_honest_assertions_are_accepted_by_both_verifiers(make_key):
    key = make_key()
    credential = registered(key.create(creation_options(Ceremony.new()), ORIGIN))
    stored_count = 0
    verdicts = []
    for _ in range(2):
        ceremony = Ceremony.new()
        response = key.get(request_options(ceremony, credential.credential_id), ORIGIN)
        fido2 = fido2_assertion(ceremony, response, credential.fido2_credential)
        py_webauthn, new_count = py_webauthn_assertion(
            ceremony, response, credential.py_webauthn_public_key, stored_count
        )
        stored_count = new_count if new_count is not None else stored_count
        verdicts.append((str(fido2), str(py_webauthn)))

    assert verdicts == [("accepted", "accepted")] * 2, verdicts


@pytest.mark.parametrize("make_key", HONEST_KEYS.values(), ids=HONEST_KEYS)
def test_py_webauthn_reports_the_sign_count_the_key_holds(make_key):
    key = make_key()
    credential = registered(key.create(creation_options(Ceremony.new()), ORIGIN))
    stored_count = 0
    reported = []
    for _ in range(2):
        ceremony = Ceremony.new()
        response = key.get(request_options(ceremony, credential.credential_id), ORIGIN)
        verdict, new_count = py_webauthn_assertion(
            ceremony, response, credential.py_webauthn_public_key, stored_count
        )
        assert verdict.accepted, verdict
        stored_count = new_count
        reported.append((new_count, key.sign_count(credential.credential_id)))

    assert reported == [(1, 1), (2, 2)]


def test_both_verifiers_refuse_a_packed_self_attestation_with_a_bad_signature():
    """The CTAP key's packed statement is checked by both, not only parsed: a flipped bit in its
    signature (the honest twin is accepted above) is refused by each."""
    ceremony = Ceremony.new()
    response = CtapKey(fault=Fault.BAD_SIGNATURE).create(creation_options(ceremony), ORIGIN)

    fido2 = fido2_registration(ceremony, response)
    py_webauthn = py_webauthn_registration(ceremony, response)

    assert not fido2.accepted and not py_webauthn.accepted, (
        f"fido2: {fido2}; py_webauthn: {py_webauthn}"
    )


# Faulty keys


def uv_level(fault: Fault) -> str:
    """The missing UV flag is a fault only when the options require user verification."""
    return "required" if fault is Fault.UV_MISSING else "discouraged"


def faulty_registration(fault: Fault) -> tuple[Verdict, Verdict]:
    ceremony = Ceremony.new(uv_level(fault))
    response = FaultyKey(fault).create(creation_options(ceremony), ORIGIN)
    return fido2_registration(ceremony, response), py_webauthn_registration(ceremony, response)


def faulty_assertion(fault: Fault) -> tuple[Verdict, Verdict]:
    key = FaultyKey(fault)
    credential = registered(key.create(creation_options(Ceremony.new(uv_level(fault))), ORIGIN))
    ceremony = Ceremony.new(uv_level(fault))
    response = key.get(request_options(ceremony, credential.credential_id), ORIGIN)
    fido2 = fido2_assertion(ceremony, response, credential.fido2_credential)
    py_webauthn, _ = py_webauthn_assertion(ceremony, response, credential.py_webauthn_public_key, 0)
    return fido2, py_webauthn


@pytest.mark.parametrize("fault", CHECKED_AT_REGISTRATION, ids=lambda fault: fault.value)
def test_both_verifiers_agree_on_a_faulty_registration(fault):
    fido2, py_webauthn = faulty_registration(fault)

    assert fido2.accepted == py_webauthn.accepted, disagreement(fido2, py_webauthn)


@pytest.mark.parametrize("fault", CHECKED_AT_REGISTRATION, ids=lambda fault: fault.value)
def test_py_webauthn_refuses_a_faulty_registration(fault):
    _, py_webauthn = faulty_registration(fault)

    assert not py_webauthn.accepted, f"{fault}: py_webauthn {py_webauthn}"


@pytest.mark.parametrize("fault", CHECKED_AT_ASSERTION, ids=lambda fault: fault.value)
def test_both_verifiers_agree_on_a_faulty_assertion(fault):
    fido2, py_webauthn = faulty_assertion(fault)

    assert fido2.accepted == py_webauthn.accepted, disagreement(fido2, py_webauthn)


@pytest.mark.parametrize("fault", CHECKED_AT_ASSERTION, ids=lambda fault: fault.value)
def test_py_webauthn_refuses_a_faulty_assertion(fault):
    _, py_webauthn = faulty_assertion(fault)

    assert not py_webauthn.accepted, f"{fault}: py_webauthn {py_webauthn}"


def test_py_webauthn_refuses_a_credential_with_an_algorithm_the_index_did_not_offer():
    """An RS1 (-65535) credential, offered -7, -8 and -257, is refused by py_webauthn.

    The verifiers disagree here, by design: python-fido2 1.2's ``Fido2Server.register_complete``
    does not compare the credential's algorithm with the offered ones and accepts it, leaving
    §7.1 step 16 to the relying party (the reference server checks the algorithm itself).
    py_webauthn checks it against ``supported_pub_key_algs``.
    """
    fido2, py_webauthn = faulty_registration(Fault.UNSUPPORTED_ALGORITHM)

    assert not py_webauthn.accepted, f"fido2: {fido2}; py_webauthn: {py_webauthn}"
    assert "Unsupported credential public key alg" in py_webauthn.reason
