"""Password reset: request, link, limits, and what a reset leaves in place."""

from __future__ import annotations

import re

SENT = "The email contains a link to reset your password. This link will expire in 6 hours."


def request_reset(flow, value):
    return flow.post("/account/request-password-reset/", {"username_or_email": value})


def registered(flow):
    flow.register()
    flow.logout()
    return flow


def reset_path(flow):
    return flow.mail.link("Password reset")


def test_known_and_unknown_accounts_get_the_same_page(flow, mail):
    registered(flow)
    known = request_reset(flow, "alice").get_data(as_text=True)
    unknown = request_reset(flow, "nobody").get_data(as_text=True)
    strip = re.compile(r'value="[^"]*"')
    assert SENT in known
    assert 'id="password-reset-sent"' in known
    assert strip.sub("", known) == strip.sub("", unknown)
    assert mail.subjects().count("Password reset") == 1


def test_a_reset_by_email_address_mails_a_link(flow, mail):
    registered(flow)
    request_reset(flow, "ALICE@example.com")
    assert reset_path(flow).startswith("http://localhost/account/reset-password/?token=")


def test_the_link_sets_a_new_password_once(flow, mail, clock):
    registered(flow)
    request_reset(flow, "alice")
    link = reset_path(flow)
    clock.advance(1)
    new = "another long passphrase 77"
    response = flow.post(link, {"new_password": new, "password_confirm": new})
    assert response.headers["Location"] == "/account/login/"
    assert "Password changed" in mail.subjects()
    page = flow.client.get("/account/login/").get_data(as_text=True)
    assert "You have reset your password" in page
    again = flow.client.get(link)
    assert again.headers["Location"] == "/account/request-password-reset/"
    assert flow.login(password=new).headers["Location"] == "/manage/projects/"


def test_the_link_expires(flow, clock):
    registered(flow)
    request_reset(flow, "alice")
    clock.advance(6 * 3600 + 1)
    flow.new_client()
    response = flow.client.get(reset_path(flow))
    assert response.headers["Location"] == "/account/request-password-reset/"
    page = flow.client.get("/account/request-password-reset/").get_data(as_text=True)
    assert "Expired token" in page


def test_the_link_dies_when_the_user_logs_in(flow, clock):
    registered(flow)
    request_reset(flow, "alice")
    clock.advance(1)
    flow.login()
    flow.logout()
    response = flow.client.get(reset_path(flow))
    assert response.headers["Location"] == "/account/request-password-reset/"
    assert "Invalid token" in flow.client.get("/").get_data(as_text=True)


def test_requests_over_the_limit_send_no_mail_but_the_same_page(make_flow, mail):
    flow = registered(make_flow(password_reset_limit="2 per day"))
    pages = [request_reset(flow, "alice").get_data(as_text=True) for _ in range(3)]
    assert all(SENT in p for p in pages)
    assert mail.subjects().count("Password reset") == 2


def test_a_reset_still_asks_for_the_second_factor(ready, clock):
    request_reset(ready, "alice")
    new = "another long passphrase 77"
    ready.post(reset_path(ready), {"new_password": new, "password_confirm": new})
    response = ready.login(password=new)
    assert response.headers["Location"].startswith("/account/two-factor/?")


def test_a_weak_new_password_is_refused(flow):
    registered(flow)
    request_reset(flow, "alice")
    response = flow.post(
        reset_path(flow), {"new_password": "password", "password_confirm": "password"}
    )
    assert "Password is too easily guessed" in response.get_data(as_text=True)
