"""TOTP provisioning and the TOTP login step."""

from __future__ import annotations

import re
import threading

import pyotp
import pytest


def test_each_get_of_the_provisioning_page_makes_a_new_secret(flow):
    flow.register()
    flow.verify_email()
    flow.burn(flow.generate_codes()[0])
    secrets = set()
    for _ in range(2):
        page = flow.client.get("/manage/account/totp-provision").get_data(as_text=True)
        secrets.add(re.search(r"<code>([A-Z2-7]{32})</code>", page).group(1))
    assert len(secrets) == 2


def test_the_provisioning_page_shows_the_uri_and_is_not_cached(flow):
    flow.register()
    flow.verify_email()
    flow.burn(flow.generate_codes()[0])
    response = flow.client.get("/manage/account/totp-provision")
    page = response.get_data(as_text=True)
    secret = re.search(r"<code>([A-Z2-7]{32})</code>", page).group(1)
    assert re.search(rf'aria-label="otpauth://totp/[^"]*secret={secret}[^"]*issuer=', page)
    assert response.headers["Cache-Control"] == "no-store"
    image = flow.client.get("/manage/account/totp-provision/image")
    assert image.content_type == "image/svg+xml"
    assert image.data.lstrip().startswith(b"<svg")


def test_provisioning_needs_a_verified_email(flow):
    flow.register()
    response = flow.client.get("/manage/account/totp-provision")
    assert response.headers["Location"] == "/manage/account/two-factor/"
    page = flow.client.get("/manage/account/two-factor/").get_data(as_text=True)
    assert "Verify your email to modify two factor authentication" in page
    assert 'id="verify-email-first"' in page
    assert 'id="add-totp"' not in page


def test_the_current_profile_asks_for_recovery_codes_before_totp(flow):
    flow.register()
    flow.verify_email()
    response = flow.client.get("/manage/account/totp-provision")
    assert response.headers["Location"] == "/manage/account/recovery-codes/generate"
    flow.generate_codes()
    response = flow.client.get("/manage/account/totp-provision")
    assert response.headers["Location"] == "/manage/account/recovery-codes/burn"


def test_the_2019_beta_profile_provisions_without_recovery_codes(make_flow):
    flow = make_flow(profile="2019-beta")
    flow.register()
    flow.verify_email()
    assert flow.provision_totp().headers["Location"] == "/manage/account/"


def test_a_wrong_provisioning_code_does_not_enable_totp(flow):
    flow.register()
    flow.verify_email()
    flow.burn(flow.generate_codes()[0])
    flow.client.get("/manage/account/totp-provision")
    response = flow.post("/manage/account/totp-provision", {"totp_value": "000000"})
    assert "Invalid TOTP code. Try again?" in response.get_data(as_text=True)
    assert 'id="add-totp"' in flow.client.get("/manage/account/two-factor/").get_data(as_text=True)


def test_a_provisioning_code_from_a_skewed_clock_is_reported(flow, clock):
    flow.register()
    flow.verify_email()
    flow.burn(flow.generate_codes()[0])
    page = flow.client.get("/manage/account/totp-provision").get_data(as_text=True)
    totp = pyotp.TOTP(re.search(r"<code>([A-Z2-7]{32})</code>", page).group(1))
    response = flow.post("/manage/account/totp-provision", {"totp_value": totp.at(clock.now + 150)})
    assert "Your device time may be out of sync." in response.get_data(as_text=True)


def test_setting_up_totp_flashes_success_and_mails_the_user(flow, mail):
    flow.register()
    flow.verify_email()
    flow.burn(flow.generate_codes()[0])
    response = flow.provision_totp()
    assert response.headers["Location"] == "/manage/account/"
    page = flow.client.get("/manage/account/").get_data(as_text=True)
    assert "Authentication application successfully set up" in page
    assert "Two-factor method added" in mail.subjects()


def test_the_password_step_alone_grants_nothing(ready):
    url = ready.two_factor_url(ready.login())
    for path in (
        "/manage/account/",
        "/manage/projects/",
        "/manage/account/two-factor/",
        "/manage/account/recovery-codes/regenerate",
    ):
        assert ready.client.get(path).status_code == 303, path
    assert 'id="user-indicator"' not in ready.client.get("/").get_data(as_text=True)
    assert ready.client.get(url).status_code == 200


def test_a_right_code_completes_the_login(ready):
    response = ready.login_with_totp()
    assert response.headers["Location"] == "/"
    assert ready.client.get("/manage/projects/").status_code == 200


def test_the_second_factor_rotates_the_session(ready):
    url = ready.two_factor_url(ready.login())
    partial = ready.client.get_cookie("session_id").value
    ready.submit_totp(url, ready.code())
    assert ready.client.get_cookie("session_id").value != partial


def test_the_login_next_survives_the_second_factor(ready):
    url = ready.two_factor_url(ready.login(next="/manage/account/"))
    assert ready.submit_totp(url, ready.code()).headers["Location"] == "/manage/account/"


def test_a_code_is_refused_on_reuse(ready):
    ready.login_with_totp()
    ready.logout()
    url = ready.two_factor_url(ready.login())
    response = ready.submit_totp(url, ready.code())
    assert "Invalid TOTP code." in response.get_data(as_text=True)


def test_a_code_of_an_earlier_step_is_refused_after_a_later_one(ready, clock):
    later = ready.code(+1)
    earlier = ready.code()
    url = ready.two_factor_url(ready.login())
    assert ready.submit_totp(url, later).status_code == 303
    ready.logout()
    url = ready.two_factor_url(ready.login())
    assert "Invalid TOTP code." in ready.submit_totp(url, earlier).get_data(as_text=True)


@pytest.mark.parametrize("offset", [-1, 1])
def test_one_step_of_drift_is_accepted(ready, offset):
    # Past the step after the provisioning code's, so that step - 1 is unused.
    ready.clock.advance(30)
    url = ready.two_factor_url(ready.login())
    assert ready.submit_totp(url, ready.code(offset)).status_code == 303


@pytest.mark.parametrize("offset", [-2, 2])
def test_two_steps_of_drift_are_refused(ready, offset):
    url = ready.two_factor_url(ready.login())
    response = ready.submit_totp(url, ready.code(offset))
    assert "Invalid TOTP code." in response.get_data(as_text=True)


def test_spaces_in_the_code_are_tolerated(ready):
    code = ready.code()
    url = ready.two_factor_url(ready.login())
    assert ready.submit_totp(url, f" {code[:3]} {code[3:]} ").status_code == 303


@pytest.mark.parametrize("value", ["", "12345", "1234567", "12a456", "x" * 10_000])
def test_malformed_codes_get_a_form_error(ready, value):
    url = ready.two_factor_url(ready.login())
    response = ready.submit_totp(url, value)
    assert response.status_code == 200
    assert "TOTP code must be 6 digits." in response.get_data(as_text=True)


def test_full_width_digits_are_refused(ready):
    code = ready.code()
    full_width = "".join(chr(ord(c) - ord("0") + 0xFF10) for c in code)
    url = ready.two_factor_url(ready.login())
    response = ready.submit_totp(url, full_width)
    assert "TOTP code must be 6 digits." in response.get_data(as_text=True)
    assert ready.submit_totp(url, code).status_code == 303


def test_a_bad_two_factor_token_sends_back_to_login(ready):
    response = ready.client.get("/account/two-factor/?not-a-token")
    assert response.headers["Location"] == "/account/login/"
    page = ready.client.get("/account/login/").get_data(as_text=True)
    assert "Invalid or expired two factor login." in page


def test_the_two_factor_token_expires(ready, clock):
    url = ready.two_factor_url(ready.login())
    clock.advance(301)
    assert ready.submit_totp(url, ready.code()).headers["Location"] == "/account/login/"


def test_the_two_factor_token_is_void_after_any_later_login(ready):
    stale = ready.two_factor_url(ready.login())
    ready.clock.advance(1)
    ready.login_with_totp()
    ready.logout()
    ready.clock.advance(30)
    assert ready.submit_totp(stale, ready.code()).headers["Location"] == "/account/login/"


def test_two_concurrent_requests_with_one_code_let_only_one_in(ready):
    code = ready.code()
    url = ready.two_factor_url(ready.login())
    other = ready.app.test_client()
    ready.client, first = other, ready.client
    url2 = ready.two_factor_url(ready.login())
    clients = [(first, url), (other, url2)]
    tokens = []
    for client, _ in clients:
        ready.client = client
        tokens.append(ready.csrf())
    results = []

    def attempt(index: int) -> None:
        client, target = clients[index]
        results.append(
            client.post(
                target, data={"csrf_token": tokens[index], "method": "totp", "totp_value": code}
            )
        )

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status_code for r in results) == [200, 303]


def test_removing_the_last_method_is_refused_in_the_current_profile(ready, password):
    ready.login_with_totp()
    response = ready.post("/manage/account/totp-provision", {"confirm_password": password})
    assert response.headers["Location"] == "/manage/account/two-factor/"
    page = ready.client.get("/manage/account/two-factor/").get_data(as_text=True)
    assert "Cannot remove last 2FA method" in page
    assert 'id="totp-enabled"' in page


def test_the_2019_beta_profile_removes_totp_given_the_password(make_flow, mail, password):
    flow = make_flow(profile="2019-beta")
    flow.register()
    flow.verify_email()
    flow.provision_totp()
    wrong = flow.post("/manage/account/totp-provision", {"confirm_password": "wrong password"})
    assert wrong.status_code == 303
    assert 'id="totp-enabled"' in flow.client.get("/manage/account/two-factor/").get_data(
        as_text=True
    )
    flow.post("/manage/account/totp-provision", {"confirm_password": password})
    assert 'id="add-totp"' in flow.client.get("/manage/account/two-factor/").get_data(as_text=True)
    assert "Two-factor method removed" in mail.subjects()


def test_provisioning_again_while_totp_is_on_is_refused(ready):
    ready.login_with_totp()
    response = ready.client.get("/manage/account/totp-provision")
    assert response.headers["Location"] == "/manage/account/two-factor/"


def test_remember_device_skips_the_second_factor_next_time(ready):
    url = ready.two_factor_url(ready.login())
    response = ready.submit_totp(url, ready.code(), remember_device="true")
    cookie = next(
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_device=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Path=/account/login/" in cookie
    ready.logout()
    assert ready.login().headers["Location"] == "/manage/projects/"


def test_too_many_failed_codes_lock_out_even_a_right_code(make_flow):
    flow = make_flow(two_factor_user_limit="3 per 5 minutes")
    flow.full_setup()
    url = flow.two_factor_url(flow.login())
    for _ in range(3):
        flow.submit_totp(url, "000000")
    response = flow.submit_totp(url, flow.code())
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "There have been too many unsuccessful login attempts" in response.get_data(as_text=True)


def test_totp_and_recovery_code_failures_share_one_counter(make_flow):
    flow = make_flow(two_factor_user_limit="2 per 5 minutes")
    flow.full_setup()
    url = flow.two_factor_url(flow.login())
    flow.submit_totp(url, "000000")
    flow.post(url.replace("two-factor", "recovery-code"), {"recovery_code_value": "0" * 16})
    assert flow.submit_totp(url, flow.code()).status_code == 429


def test_too_many_failed_passwords_lock_out_even_the_right_one(make_flow, password):
    flow = make_flow(login_user_limit="2 per 5 minutes")
    flow.register()
    flow.logout()
    flow.login(password="not the password at all")
    flow.login(password="not the password at all")
    response = flow.login()
    assert response.status_code == 429
    assert "Retry-After" in response.headers
    assert 'class="form-errors"' in response.get_data(as_text=True)
