"""The virtual TOTP app against RFC 6238's published vectors and its own clock handling."""

import base64

import pytest

from virtual_authenticators.totp import TotpApp

SEEDS = {
    "sha1": b"12345678901234567890",
    "sha256": b"12345678901234567890123456789012",
    "sha512": b"1234567890123456789012345678901234567890123456789012345678901234",
}
# RFC 6238 Appendix B: time -> (SHA-1, SHA-256, SHA-512), 8 digits, 30 s steps.
RFC6238_VECTORS = {
    59: ("94287082", "46119246", "90693936"),
    1111111109: ("07081804", "68084774", "25091201"),
    1111111111: ("14050471", "67062674", "99943326"),
    1234567890: ("89005924", "91819424", "93441116"),
    2000000000: ("69279037", "90698825", "38618901"),
    20000000000: ("65353130", "77737706", "47863826"),
}


def app_at(now: float, algorithm: str = "sha1", digits: int = 8) -> TotpApp:
    secret = base64.b32encode(SEEDS[algorithm]).decode()
    return TotpApp(secret, digits=digits, algorithm=algorithm, clock=lambda: now)


@pytest.mark.parametrize("now", sorted(RFC6238_VECTORS))
@pytest.mark.parametrize("index,algorithm", list(enumerate(SEEDS)))
def test_current_code_matches_rfc6238_vector(now: int, index: int, algorithm: str) -> None:
    assert app_at(now, algorithm).current() == RFC6238_VECTORS[now][index]


def test_previous_and_next_are_the_neighbouring_steps() -> None:
    app = app_at(1111111111)
    assert app.previous() == app_at(1111111111 - 30).current()
    assert app.next() == app_at(1111111111 + 30).current()
    assert app.previous(2) == app.code_at_step(app.step() - 2)


def test_app_set_up_from_qr_uri_reads_secret_digits_and_algorithm() -> None:
    secret = base64.b32encode(SEEDS["sha256"]).decode()
    uri = f"otpauth://totp/Index:alice?secret={secret}&issuer=Index&algorithm=SHA256&digits=8"
    app = TotpApp.from_uri(uri, clock=lambda: 59)
    assert app.current() == "46119246"


def test_non_totp_uri_is_refused() -> None:
    with pytest.raises(ValueError, match="not a TOTP provisioning URI"):
        TotpApp.from_uri("otpauth://hotp/Index:alice?secret=ABC&counter=1")


def test_waits_out_a_step_about_to_end() -> None:
    slept: list[float] = []
    app = app_at(29.0, digits=6)
    app.wait_for_fresh_step(at_least=8, sleep=slept.append)
    assert slept == [pytest.approx(1.05)]


def test_does_not_wait_early_in_a_step() -> None:
    slept: list[float] = []
    app_at(31.0, digits=6).wait_for_fresh_step(at_least=8, sleep=slept.append)
    assert slept == []


def test_wrong_code_matches_no_step_near_now() -> None:
    app = app_at(1111111111, digits=6)
    near = {app.code_at_step(app.step() + delta) for delta in range(-2, 3)}
    wrong = app.wrong_code()
    assert len(wrong) == 6 and wrong.isdigit() and wrong not in near
