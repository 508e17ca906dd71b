"""Re-authentication before sensitive pages."""

from __future__ import annotations

import re


def reauth_fields(page: str) -> dict[str, str]:
    form = re.search(r'<form id="reauthenticate-form".*?</form>', page, re.S).group(0)
    return dict(
        re.findall(
            r'name="([a-z_]+)" value="([^"]*)"', form.replace("&#34;", '"').replace("&quot;", '"')
        )
    )


def stale(flow, clock):
    flow.register()
    clock.advance(1801)
    flow.client.get("/")  # session still alive (12 h)
    return flow.client.get("/manage/account/two-factor/").get_data(as_text=True)


def test_an_old_login_gets_the_password_form_in_place(flow, clock):
    page = stale(flow, clock)
    assert 'action="/account/reauthenticate/"' in page
    fields = reauth_fields(page)
    assert fields["next_route"] == "manage.account_two_factor"
    assert fields["username"] == "alice"


def test_the_right_password_goes_back_to_the_page(flow, clock, password):
    fields = reauth_fields(stale(flow, clock))
    response = flow.post("/account/reauthenticate/", {**fields, "password": password})
    assert response.headers["Location"] == "/manage/account/two-factor/"
    page = flow.client.get("/manage/account/two-factor/").get_data(as_text=True)
    assert "reauthenticate-form" not in page


def test_a_wrong_password_shows_an_error(flow, clock):
    fields = reauth_fields(stale(flow, clock))
    response = flow.post("/account/reauthenticate/", {**fields, "password": "wrong one"})
    assert response.status_code == 200
    assert 'id="password-errors"' in response.get_data(as_text=True)


def test_an_unknown_next_route_is_a_400(flow, clock, password):
    fields = reauth_fields(stale(flow, clock))
    response = flow.post(
        "/account/reauthenticate/", {**fields, "password": password, "next_route": "evil.route"}
    )
    assert response.status_code == 400


def test_hidden_json_that_does_not_parse_is_a_400(flow, clock, password):
    fields = reauth_fields(stale(flow, clock))
    for name in ("next_route_matchdict", "next_route_query"):
        for bad in ("{not json", "[1, 2]", '{"a": 1}'):
            response = flow.post(
                "/account/reauthenticate/", {**fields, "password": password, name: bad}
            )
            assert response.status_code == 400, (name, bad)


def test_the_user_is_the_sessions_not_the_hidden_fields(flow, clock, password):
    fields = reauth_fields(stale(flow, clock))
    response = flow.post(
        "/account/reauthenticate/", {**fields, "username": "somebody-else", "password": password}
    )
    assert response.headers["Location"] == "/manage/account/two-factor/"


def test_any_login_refreshes_the_authentication_time(flow, clock):
    stale(flow, clock)
    flow.logout()
    flow.login()
    page = flow.client.get("/manage/account/two-factor/").get_data(as_text=True)
    assert "reauthenticate-form" not in page
