"""Registration, email verification, login, logout, sessions, CSRF and headers."""

from __future__ import annotations

import re
from html import unescape as html_unescape

import pytest
from sqlalchemy import select

from reference_server.db import make_engine
from reference_server.models import Event, User


def test_registering_logs_the_user_in_and_mails_a_verification_link(flow, mail):
    response = flow.register()
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert 'id="user-indicator">alice<' in flow.client.get("/").get_data(as_text=True)
    assert mail.link("Verify your email").startswith(
        "http://localhost/account/verify-email/?token="
    )


def test_a_filled_in_honeypot_is_refused_with_400(flow, password):
    response = flow.post(
        "/account/register/",
        {
            "full_name": "",
            "email": "bot@example.com",
            "username": "bot",
            "new_password": password,
            "password_confirm": password,
            "confirm_form": "x",
        },
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("username", "-bad-", "The username is invalid"),
        ("username", "a" * 51, "The username is invalid"),
        ("email", "not-an-address", "The email address isn't valid"),
        ("new_password", "short", "at least 8 characters"),
        ("new_password", "password", "Password is too easily guessed"),
        ("password_confirm", "something else entirely 99", "Your passwords don't match"),
    ],
)
def test_registration_shows_field_errors(flow, password, field, value, message):
    data = {
        "full_name": "",
        "email": "bob@example.com",
        "username": "bob",
        "new_password": password,
        "password_confirm": password,
        field: value,
    }
    if field == "new_password":
        data["password_confirm"] = value
    response = flow.post("/account/register/", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    errors = re.search(rf'<ul id="{field}-errors"[^>]*>(.*?)</ul>', html, re.S)
    assert errors and message in html_unescape(errors.group(1))


def test_a_taken_username_or_email_is_refused(flow, password):
    flow.register()
    flow.logout()
    other = flow.new_client()
    assert other is flow.client
    response = flow.post(
        "/account/register/",
        {
            "full_name": "",
            "email": "ALICE@example.com",
            "username": "Alice",
            "new_password": password,
            "password_confirm": password,
        },
    )
    html = response.get_data(as_text=True)
    assert "This username is already being used" in html
    assert "This email address is already being used" in html


def test_following_the_verification_link_marks_the_address_verified(flow):
    flow.register()
    response = flow.verify_email()
    assert response.headers["Location"] == "/manage/account/"
    page = flow.client.get("/manage/account/").get_data(as_text=True)
    assert re.search(r'data-email="alice@example.com">.*?email-status">Verified<', page, re.S)


def test_an_expired_verification_link_changes_nothing(make_flow, clock):
    flow = make_flow(email_verify_max_age=60)
    flow.register()
    clock.advance(61)
    response = flow.verify_email()
    assert response.headers["Location"] == "/manage/account/"
    page = flow.client.get("/manage/account/").get_data(as_text=True)
    assert "Expired token" in page
    assert "Unverified" in page


def test_the_verification_link_needs_its_user_logged_in(flow):
    flow.register()
    flow.logout()
    response = flow.verify_email()
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/account/login/?next=/account/verify-email/")


def test_login_without_two_factor_goes_to_the_projects_page(flow):
    flow.register()
    flow.logout()
    response = flow.login()
    assert response.headers["Location"] == "/manage/projects/"
    assert flow.client.get("/manage/projects/").status_code == 200


@pytest.mark.parametrize(
    ("next_value", "expected"),
    [
        ("/manage/account/", "/manage/account/"),
        ("//evil.example/", "/manage/projects/"),
        ("https://evil.example/", "/manage/projects/"),
        ("/\\evil.example", "/manage/projects/"),
    ],
)
def test_login_follows_next_only_to_same_site_paths(flow, next_value, expected):
    flow.register()
    flow.logout()
    assert flow.login(next=next_value).headers["Location"] == expected


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(flow):
    flow.register()
    flow.logout()
    wrong = flow.login(password="not the password at all")
    flow.username = "nobody"
    unknown = flow.login(password="not the password at all")
    strip = re.compile(r'value="[^"]*"')
    assert wrong.status_code == unknown.status_code == 200
    assert strip.sub("", wrong.get_data(as_text=True)).replace("alice", "nobody") == strip.sub(
        "", unknown.get_data(as_text=True)
    )


def test_a_logged_in_user_asking_for_the_login_page_is_sent_home(flow):
    flow.register()
    response = flow.client.get("/account/login/")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(
    "path",
    [
        "/manage/account/",
        "/manage/account/two-factor/",
        "/manage/projects/",
        "/manage/account/totp-provision",
        "/manage/account/recovery-codes/generate",
        "/manage/account/recovery-codes/burn",
    ],
)
def test_protected_pages_send_anonymous_users_to_login(flow, path):
    response = flow.client.get(path)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/account/login/?next={path}"


def test_a_post_without_the_csrf_token_gets_400(flow):
    response = flow.client.post("/account/login/", data={"username": "a", "password": "b"})
    assert response.status_code == 400
    assert "Bad CSRF Token" in response.get_data(as_text=True)


def test_the_session_id_and_csrf_token_change_at_login(flow):
    flow.register()
    flow.logout()
    before_token = flow.csrf()
    before_cookie = flow.client.get_cookie("session_id").value
    flow.login()
    after_cookie = flow.client.get_cookie("session_id").value
    assert after_cookie != before_cookie
    assert flow.csrf() != before_token
    # The pre-login token no longer works.
    assert flow.post("/account/logout/", {"csrf_token": before_token}).status_code == 400


def test_a_session_cookie_from_before_login_is_useless_after_it(flow):
    flow.register()
    flow.logout()
    flow.csrf()
    fixated = flow.client.get_cookie("session_id").value
    flow.login()
    attacker = flow.app.test_client()
    attacker.set_cookie("session_id", fixated)
    assert attacker.get("/manage/account/").status_code == 303


def test_logout_destroys_the_session(flow):
    flow.register()
    cookie = flow.client.get_cookie("session_id").value
    response = flow.logout()
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    replay = flow.app.test_client()
    replay.set_cookie("session_id", cookie)
    assert replay.get("/manage/account/").status_code == 303


def test_the_session_cookie_is_httponly_and_lax(flow):
    response = flow.client.get("/account/login/")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("session_id=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_every_response_forbids_framing(flow):
    for path in ("/", "/account/login/", "/nowhere"):
        response = flow.client.get(path)
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Content-Security-Policy"] == "frame-ancestors 'none'"


def test_logins_and_failures_are_recorded_as_events(flow, app):
    flow.register()
    flow.logout()
    flow.login(password="not the password at all")
    flow.login()
    engine = make_engine(app.extensions["reference_server.config"].database_url)
    with engine.connect() as conn:
        tags = conn.scalars(select(Event.tag).order_by(Event.id)).all()
    assert tags == [
        "account:create",
        "account:login:success",
        "account:login:failure",
        "account:login:success",
    ]


def test_passwords_are_stored_as_argon2_hashes(flow, app, password):
    flow.register()
    engine = make_engine(app.extensions["reference_server.config"].database_url)
    with engine.connect() as conn:
        stored = conn.scalar(select(User.password))
    assert stored.startswith("$argon2id$")
    assert password not in stored
