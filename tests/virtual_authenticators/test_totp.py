"""The virtual TOTP app's clock handling and set-up (the published vectors are checked in
scenarios/totp/test_totp_vectors.py, as the harness's self-check)."""

import pytest

from virtual_authenticators.totp import TotpApp
from virtual_authenticators.totp_vectors import RFC6238_SEEDS, RFC6238_TOTP, base32


def app_at(now: float, algorithm: str = "sha1", digits: int = 8) -> TotpApp:
    secret = base32(RFC6238_SEEDS[algorithm])
    return TotpApp(secret, digits=digits, algorithm=algorithm, clock=lambda: now)


def test_previous_and_next_are_the_neighbouring_steps() -> None:
    app = app_at(1111111111)
    assert app.previous() == app_at(1111111111 - 30).current()
    assert app.next() == app_at(1111111111 + 30).current()
    assert app.previous(2) == app.code_at_step(app.step() - 2)


def test_app_set_up_from_qr_uri_reads_secret_digits_and_algorithm() -> None:
    secret = base32(RFC6238_SEEDS["sha256"])
    uri = f"otpauth://totp/Index:alice?secret={secret}&issuer=Index&algorithm=SHA256&digits=8"
    app = TotpApp.from_uri(uri, clock=lambda: 59)
    assert app.current() == RFC6238_TOTP[59]["sha256"]


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
